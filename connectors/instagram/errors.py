"""What an Instagram Graph answer means: throttled, token gone, post deleted, and so on."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from connectors.http import ApiProblem
from connectors.records import RawRecord

THROTTLE_CODES = frozenset({4, 17, 32, 613, 80002})
# Never retry a throttled account sooner than this, whatever the headers say.
MIN_RETRY_SECONDS = 60.0
# When a throttle comes without usage headers to say how long, wait this long.
DEFAULT_THROTTLE_SECONDS = 600.0


@dataclass(frozen=True)
class BucUsage:
    """One X-Business-Use-Case-Usage entry; the counts are percentages of the quota."""

    type: str
    call_count: int
    total_cputime: int
    total_time: int
    estimated_time_to_regain_access: int
    """Minutes."""


def parse_buc_header(value: str | None) -> dict[str, list[BucUsage]]:
    """X-Business-Use-Case-Usage by account id; {} when absent or unreadable."""
    if not value:
        return {}
    try:
        parsed = json.loads(value)
    except ValueError:
        return {}
    if not isinstance(parsed, dict):
        return {}
    usage: dict[str, list[BucUsage]] = {}
    for account_id, entries in parsed.items():
        if not isinstance(entries, list):
            continue
        usage[str(account_id)] = [
            BucUsage(
                type=str(e.get("type", "")),
                call_count=_int(e.get("call_count")),
                total_cputime=_int(e.get("total_cputime")),
                total_time=_int(e.get("total_time")),
                estimated_time_to_regain_access=_int(e.get("estimated_time_to_regain_access")),
            )
            for e in entries
            if isinstance(e, dict)
        ]
    return usage


def parse_app_usage_header(value: str | None) -> dict[str, int]:
    """X-App-Usage as {call_count, total_time, total_cputime} percentages; {} when absent."""
    try:
        parsed = json.loads(value or "")
    except ValueError:
        return {}
    if not isinstance(parsed, dict):
        return {}
    return {str(k): _int(v) for k, v in parsed.items()}


def regain_seconds(
    headers: Mapping[str, str] | None, account_id: str | None = None
) -> float | None:
    """Seconds the BUC header says to wait (the account's entries, or all); None if it is silent."""
    if headers is None:
        return None
    usage = parse_buc_header(headers.get("x-business-use-case-usage"))
    entries = usage.get(account_id or "") or [e for es in usage.values() for e in es]
    return max((e.estimated_time_to_regain_access * 60.0 for e in entries), default=None)


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _expected_shape(endpoint: str, body: Any) -> bool:
    if not isinstance(body, dict):
        return False
    if endpoint in ("user", "media_object"):
        return "id" in body
    data = body.get("data")
    if not isinstance(data, list) or not all(isinstance(d, dict) for d in data):
        return False
    if endpoint in ("media", "stories"):
        return all("id" in d for d in data)
    return True


def classify(record: RawRecord, headers: Mapping[str, str] | None = None) -> ApiProblem | None:
    """None when the record is a usable answer, else what went wrong.

    `headers` (the response's, see InstagramClient.last_headers) give the throttle wait;
    without them a throttle waits DEFAULT_THROTTLE_SECONDS.
    """
    body = record.body
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        code = _int(error.get("code"))
        subcode = _int(error.get("error_subcode"))
        message = str(error.get("message", ""))
        wait = regain_seconds(headers, record.account_id)
        if code in THROTTLE_CODES:
            retry = max(MIN_RETRY_SECONDS, DEFAULT_THROTTLE_SECONDS if wait is None else wait)
            return ApiProblem("throttled", message, retry, code)
        if code == 190:
            return ApiProblem("token_invalid", message, code=code)
        if code == 10 or 200 <= code <= 299:
            return ApiProblem("permission", message, code=code)
        if (code == 100 and subcode == 33) or code == 33:
            # Throttling has been seen to surface as 100/33: believe the usage headers first.
            if wait:
                return ApiProblem("throttled", message, max(MIN_RETRY_SECONDS, wait), code)
            return ApiProblem("not_found", message, code=code)
        if record.status >= 500:
            return ApiProblem("server", message, code=code)
        return ApiProblem("other", message, code=code)
    if record.status >= 500:
        return ApiProblem("server", f"HTTP {record.status}")
    if body is None:
        return ApiProblem("malformed", record.parse_error or "invalid JSON")
    if record.status != 200:
        return ApiProblem("other", f"HTTP {record.status} without an error object")
    if not _expected_shape(record.endpoint, body):
        return ApiProblem("malformed", f"unexpected shape for {record.endpoint}")
    return None
