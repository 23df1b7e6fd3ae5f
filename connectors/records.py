"""The raw record: one platform response as received, with where and when it came from.

Every connector, the raw-file import and the bronze writer speak this one shape; it is the
envelope of `analisa ingest` (see docs/architecture.md) plus the hashes bronze keys on.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any


@dataclass(frozen=True)
class RawRecord:
    platform: str
    endpoint: str
    account_id: str
    round_id: str | None
    """Groups the pages of one listing; None where the endpoint has no rounds (file imports)."""
    fetched_at: datetime
    status: int
    body_text: str
    """The response body exactly as received (decoded as UTF-8)."""
    object_id: str | None = None
    request: str | None = None
    """Method and path with query, secrets (access tokens, client secrets) removed."""
    source: str = "collector"
    task_id: str | None = None

    @cached_property
    def _parsed(self) -> tuple[Any | None, str | None]:
        try:
            return json.loads(self.body_text), None
        except ValueError as exc:
            return None, f"invalid JSON: {exc}"

    @property
    def body(self) -> Any | None:
        """The parsed JSON body, or None when the body is not valid JSON."""
        return self._parsed[0]

    @property
    def parse_error(self) -> str | None:
        return self._parsed[1]

    @cached_property
    def content_hash(self) -> str:
        """sha256 of the body as received: equal bodies between polls hash equal."""
        return hashlib.sha256(self.body_text.encode("utf-8")).hexdigest()

    @cached_property
    def record_hash(self) -> str:
        """sha256 of the whole envelope: the same response loaded twice is stored once."""
        ident = json.dumps(
            [
                self.platform,
                self.endpoint,
                self.account_id,
                self.object_id,
                self.round_id,
                self.fetched_at.astimezone(UTC).isoformat(),
                self.status,
                self.content_hash,
            ]
        )
        return hashlib.sha256(ident.encode("utf-8")).hexdigest()
