"""Cached authenticated GETs answered in front of FastAPI.

A cache hit needs none of FastAPI's per-request machinery (dependency resolution, query
validation, response models), only: the token verified (remembered per token until it
expires), the client's rate limit counted, and the stored bytes found for this workspace, role,
list version, gold version, path and query. This pure ASGI middleware does exactly that in one
Redis round trip and answers a hit with the stored bytes (ETag, 304, `X-Cache: hit`, the same
headers as the normal path; the request id and metrics middlewares around it still apply).

Anything else falls through to the normal routes, unchanged: no or a bad token (their 401),
no Redis, a rate limit reached (the route's 429), a miss. Entries are only ever written by the
normal path after it validated the request and answered 200 (`ResponseCache.respond`), under
the raw path and the query as received (pairs sorted by name only, so repeated parameters keep
their order): a query that fails validation never has an entry, and two queries share one only
when Starlette parses them into the same parameters. On a miss the request is counted once:
the route does not count it again.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from operator import itemgetter
from urllib.parse import parse_qsl, urlencode

from serving_api.auth import InvalidTokenError
from serving_api.metrics import CACHE_LOOKUPS

# Paths never cached (their GETs do not go through ResponseCache.respond).
_SKIP = ("/v1/admin", "/v1/auth")
_FIRST = itemgetter(0)


@dataclass(frozen=True, slots=True)
class FastMiss:
    """Handed to the normal path on a miss: where to store the answer for the next request,
    and that this request's rate limit was counted already."""

    tail: str
    workspace_id: int


PENDING: ContextVar[FastMiss | None] = ContextVar("analisa_fast_path_miss", default=None)


@dataclass(frozen=True, slots=True)
class _Route:
    """What the metrics middleware reads from `scope["route"]`: the route template."""

    path: str


_ROUTES: dict[str, _Route] = {}


def normalise_query(raw: bytes) -> str:
    """The query as Starlette parses it, pairs stably sorted by name, re-encoded."""
    if not raw:
        return ""
    pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
    pairs.sort(key=_FIRST)
    return urlencode(pairs)


def entry_tail(workspace_id: int, role: str, path: str, query_string: bytes) -> str:
    return f"{workspace_id}:{role}:{path}?{normalise_query(query_string)}"


def pack(etag: bytes, template: str, body: bytes) -> bytes:
    """A fast-path entry: the ETag, the route template (for metrics), NUL, the body."""
    return etag + template.encode() + b"\0" + body


def if_none_match_hits(header: bytes | None, etag: bytes) -> bool:
    if not header:
        return False
    for tag in header.split(b","):
        tag = tag.strip()
        if tag == b"*" or tag.removeprefix(b"W/").strip(b'"') == etag:
            return True
    return False


class FastPathMiddleware:
    """See the module docstring. `skip_cors`: requests with an Origin header go the normal
    way (the CORS middleware inside adds their headers)."""

    def __init__(self, app, *, skip_cors: bool = False) -> None:
        self.app = app
        self.skip_cors = skip_cors
        self._hits = CACHE_LOOKUPS.labels("hit")

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if not path.startswith("/v1/") or path.startswith(_SKIP):
            await self.app(scope, receive, send)
            return
        authorization = if_none_match = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                if authorization is None:
                    authorization = value
            elif name == b"if-none-match":
                if if_none_match is None:
                    if_none_match = value
            elif name == b"origin" and self.skip_cors:
                await self.app(scope, receive, send)
                return
        state = scope["app"].state
        cache = state.cache
        if authorization is None or not cache.usable():
            await self.app(scope, receive, send)
            return
        # as HTTPBearer reads it: "<scheme> <credentials>", scheme case-insensitive
        scheme, _, token = authorization.decode("latin-1").partition(" ")
        if scheme.lower() != "bearer" or not token:
            await self.app(scope, receive, send)
            return
        try:
            principal = state.tokens.verify(token)
        except InvalidTokenError:
            await self.app(scope, receive, send)  # the route answers the 401
            return
        tail = entry_tail(principal.workspace_id, principal.role, path, scope["query_string"])
        stored = await cache.fast_lookup(principal, tail)
        if stored is None:
            # Redis failed (nothing counted), or the limit is reached: the route counts again
            # and answers its 429
            await self.app(scope, receive, send)
            return
        if not stored:  # counted, nothing stored: the route answers and stores
            marker = PENDING.set(FastMiss(tail, principal.workspace_id))
            try:
                await self.app(scope, receive, send)
            finally:
                PENDING.reset(marker)
            return
        await self._answer(scope, send, stored, if_none_match)

    async def _answer(self, scope, send, stored: bytes, if_none_match: bytes | None) -> None:
        etag = stored[:16]
        split = stored.index(b"\0", 16)
        template = stored[16:split].decode()
        route = _ROUTES.get(template)
        if route is None:
            route = _ROUTES[template] = _Route(template)
        scope["route"] = route
        self._hits.inc()
        headers = [
            (b"x-cache", b"hit"),
            (b"etag", b'"' + etag + b'"'),
            (b"cache-control", b"private, no-cache"),
            (b"vary", b"Authorization"),
        ]
        if if_none_match_hits(if_none_match, etag):
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        body = stored[split + 1 :]
        headers.append((b"content-length", str(len(body)).encode()))
        headers.append((b"content-type", b"application/json"))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
