"""Turn one HTTP exchange with a platform into a RawRecord, secrets left out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx

from analisa.core.clock import utcnow
from connectors import metrics
from connectors.records import RawRecord

# Query parameters that carry credentials; they never reach a record.
SECRET_PARAMS = frozenset(
    {
        "access_token",
        "client_secret",
        "refresh_token",
        "code",
        "code_verifier",
        "fb_exchange_token",
        "input_token",
        "appsecret_proof",
    }
)


def redact_request(request: httpx.Request) -> str:
    """'METHOD /path?query' with credential parameters removed."""
    query = parse_qsl(request.url.query.decode("ascii"), keep_blank_values=True)
    kept = [(k, v) for k, v in query if k.lower() not in SECRET_PARAMS]
    path = request.url.path
    return f"{request.method} {path}?{urlencode(kept)}" if kept else f"{request.method} {path}"


def fetch_record(
    http: httpx.Client,
    method: str,
    url: str,
    *,
    platform: str,
    endpoint: str,
    account_id: str,
    round_id: str,
    object_id: str | None = None,
    task_id: str | None = None,
    params: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    json: Any = None,
) -> tuple[RawRecord, httpx.Response]:
    """Send one request and keep its answer as received, whatever the status.

    Transport failures (httpx.TransportError) propagate: there is no answer to keep (they
    are counted as calls failed by the network).
    """
    try:
        response = http.request(method, url, params=params, headers=headers, json=json)
    except httpx.TransportError:
        metrics.count_call(platform, endpoint, "network")
        raise
    fetched_at = utcnow()
    record = RawRecord(
        platform=platform,
        endpoint=endpoint,
        account_id=account_id,
        round_id=round_id,
        fetched_at=fetched_at,
        status=response.status_code,
        body_text=response.text,
        object_id=object_id,
        request=redact_request(response.request),
        task_id=task_id,
    )
    return record, response


@dataclass(frozen=True)
class ApiProblem:
    """What a platform's answer means for the caller, the same words for every platform."""

    kind: str
    """throttled, token_invalid, permission, not_found, malformed, server or other."""
    message: str
    retry_after_seconds: float | None = None
    """Set when throttled: do not call again before this many seconds have passed."""
    code: int | str | None = None
    """The platform's own error code, when it gave one."""
