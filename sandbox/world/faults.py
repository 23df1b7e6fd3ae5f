"""Injected failures: the next calls to an endpoint break in a chosen way, then calls heal.

Endpoint names are the catalog's, so a fault names the same endpoint the collectors and bronze
views know it by.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from analisa.core.catalog import PLATFORMS, endpoint_names

FAULT_ENDPOINTS: dict[str, frozenset[str]] = {p: endpoint_names(p) for p in PLATFORMS}
FAULT_KINDS = frozenset(
    {
        "truncated_json",
        "throttle",  # Instagram: code 4, the whole app; TikTok: rate_limit_exceeded
        "account_throttle",  # Instagram: code 80002, one account (TikTok: as throttle)
        "token_expired",
        "server_error",
        "permission",  # Instagram: code 10; TikTok: scope_not_authorized
        "missing",  # Instagram: 100/33, the object does not exist
    }
)


@dataclass
class Fault:
    platform: str
    endpoint: str
    kind: str
    remaining: int
    account_id: str | None = None
    """Only calls for this account fail; None for any account."""


class FaultQueue:
    """Pending faults in injection order; callers hold the world lock."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def inject(
        self, platform: str, endpoint: str, kind: str, count: int, account_id: str | None
    ) -> None:
        if platform not in FAULT_ENDPOINTS:
            raise ValueError(f"unknown platform {platform!r}")
        if endpoint not in FAULT_ENDPOINTS[platform]:
            raise ValueError(f"unknown {platform} endpoint {endpoint!r}")
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}")
        if count < 1:
            raise ValueError("count must be at least 1")
        self._faults.append(Fault(platform, endpoint, kind, count, account_id))

    def take(self, platform: str, endpoint: str, account_id: str | None) -> str | None:
        """The kind of the first pending fault for this call, consuming one use of it."""
        for fault in self._faults:
            if (
                fault.remaining > 0
                and fault.platform == platform
                and fault.endpoint == endpoint
                and fault.account_id in (None, account_id)
            ):
                fault.remaining -= 1
                return fault.kind
        return None

    def pending(self) -> list[Fault]:
        return [replace(f) for f in self._faults if f.remaining > 0]

    def clear(self) -> None:
        self._faults.clear()
