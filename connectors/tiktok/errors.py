"""What a TikTok v2 answer means: every answer carries `error.code`, "ok" on success."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.http import ApiProblem
from connectors.records import RawRecord

# TikTok's limit is a one-minute sliding window: waiting a minute always frees a slot.
THROTTLE_SECONDS = 60.0
TOKEN_CODES = frozenset({"access_token_invalid", "access_token_expired"})
PERMISSION_CODES = frozenset({"scope_not_authorized", "scope_permission_missed"})


def _expected_shape(endpoint: str, data: Any) -> bool:
    if not isinstance(data, dict):
        return False
    if endpoint == "user_info":
        return isinstance(data.get("user"), dict)
    videos = data.get("videos")
    if not isinstance(videos, list) or not all(isinstance(v, dict) and "id" in v for v in videos):
        return False
    if endpoint == "video_list":
        return isinstance(data.get("has_more"), bool) and isinstance(data.get("cursor"), int)
    return True


def classify(record: RawRecord, headers: Mapping[str, str] | None = None) -> ApiProblem | None:
    """None when the record is a usable answer, else what went wrong.

    `headers` are accepted for the common classifier signature; TikTok's answer says it all.
    """
    body = record.body
    error = body.get("error") if isinstance(body, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    message = str(error.get("message", "")) if isinstance(error, dict) else ""
    if code == "rate_limit_exceeded" or record.status == 429:
        return ApiProblem("throttled", message or "HTTP 429", THROTTLE_SECONDS, code)
    if code in TOKEN_CODES:
        return ApiProblem("token_invalid", message, code=code)
    if code in PERMISSION_CODES:
        return ApiProblem("permission", message, code=code)
    if code == "internal_error" or record.status >= 500:
        return ApiProblem("server", message or f"HTTP {record.status}", code=code)
    if body is None:
        return ApiProblem("malformed", record.parse_error or "invalid JSON")
    if code is None:
        return ApiProblem("malformed", "answer without an error object")
    if code != "ok":
        return ApiProblem("other", message, code=code)
    if record.status != 200 or not _expected_shape(record.endpoint, body.get("data")):
        return ApiProblem("malformed", f"unexpected shape for {record.endpoint}", code=code)
    return None
