"""A transport-neutral answer, so the platform emulations can be exercised without HTTP."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

JSON_TYPE = "application/json; charset=UTF-8"


@dataclass
class Reply:
    status: int
    text: str
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = JSON_TYPE


def json_reply(status: int, body: Any, *, ascii_only: bool = False) -> Reply:
    """Compact JSON like the platforms send; Graph escapes non-ASCII, TikTok does not."""
    return Reply(status, json.dumps(body, ensure_ascii=ascii_only, separators=(",", ":")))


def redirect(location: str) -> Reply:
    return Reply(302, "", {"Location": location}, content_type="text/plain")


def add_query(url: str, params: dict[str, str], fragment: str | None = None) -> str:
    """`url` with params set (replacing any of the same name) and optional fragment."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    query.extend((k, v) for k, v in params.items() if v is not None)
    return urlunsplit(
        (parts.scheme, parts.netloc, parts.path, urlencode(query), fragment or parts.fragment)
    )


def without_query(url: str, *names: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in names]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def bearer(authorization: str | None) -> str | None:
    if authorization and authorization[:7].lower() == "bearer ":
        return authorization[7:].strip() or None
    return None
