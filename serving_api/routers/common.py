"""What the routers share: path parameters, paging cursors, documented errors."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from typing import Annotated

from fastapi import Path, Query

from serving_api.problems import ApiProblem, documented
from serving_api.schemas import Platform
from serving_api.workspaces import ACCOUNT_ID_PATTERN

MAX_OFFSET = 100_000
MAX_PAGE = 100

PlatformPath = Annotated[Platform, Path(description="`instagram` or `tiktok`.")]
AccountPath = Annotated[
    str,
    Path(
        description="The platform's account id: 1-128 letters, digits, `.`, `_`, `:`, `-`.",
        min_length=1,
        max_length=128,
        pattern=ACCOUNT_ID_PATTERN,
    ),
]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"Page size, 1-{MAX_PAGE}.")]
Cursor = Annotated[
    str | None,
    Query(
        max_length=200,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="`next_cursor` of the previous page, with the same filters.",
    ),
]

READ_ERRORS = documented(401, 403, 404, 422, 429, 503)
LIST_ERRORS = documented(401, 403, 404, 422, 429, 503)  # 404: a cursor of no page


def fingerprint(params: Mapping[str, object]) -> str:
    text = json.dumps(sorted((k, str(v)) for k, v in params.items()), separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def encode_cursor(offset: int, params: Mapping[str, object]) -> str:
    raw = json.dumps({"o": offset, "f": fingerprint(params)}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, params: Mapping[str, object]) -> int:
    """The offset a cursor stands for; 404 (no such page) for a cursor of other filters or a
    forged one: it is well-formed input naming a page that does not exist."""
    if cursor is None:
        return 0
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        offset = data["o"]
        valid = (
            isinstance(offset, int)
            and not isinstance(offset, bool)
            and 0 <= offset <= MAX_OFFSET
            and data["f"] == fingerprint(params)
        )
    except (ValueError, KeyError, TypeError):
        valid = False
    if not valid:
        raise ApiProblem(
            404,
            "Not Found",
            "cursor: not a cursor of this query (use next_cursor with the same filters)",
        )
    return offset


def next_cursor(offset: int, limit: int, total: int, params: Mapping[str, object]) -> str | None:
    following = offset + limit
    if following >= total or following > MAX_OFFSET:
        return None
    return encode_cursor(following, params)
