"""Response cache and rate limits in Redis, keyed by the gold version so a gold build
invalidates everything at once.

A cached read costs one Redis round trip: a Lua script counts the client's request against its
rate limit, reads the gold and workspace versions and returns the stored bytes (an ETag and the
JSON exactly as first serialised: nothing is validated again). A miss loads once per key
(single-flight: within a process through a shared future, across processes through a short
Redis lock the others wait on) and stores the bytes.

Redis is optional infrastructure (principle 6): not configured means every response bypasses
the cache and no rate limit applies; Redis failing at runtime means a warning once per failure
burst, then PostgreSQL answers until Redis is back. Nothing here may turn a Redis problem into
an error response.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable, Mapping
from typing import Literal
from urllib.parse import urlencode

import redis
import redis.asyncio as aioredis
from fastapi import Request, Response
from pydantic import BaseModel
from redis.backoff import NoBackoff
from redis.retry import Retry
from starlette.concurrency import run_in_threadpool

from analisa.core.gold_version import DEFAULT_PREFIX, gold_version_key
from serving_api.auth import Principal
from serving_api.fast_path import PENDING, pack
from serving_api.metrics import CACHE_LOOKUPS
from serving_api.problems import ApiProblem
from serving_api.redis_pipe import PipelinedRedis, Script

log = logging.getLogger(__name__)

CacheStatus = Literal["hit", "miss", "bypass"]
CACHE_HEADER = "X-Cache"
ETAG_LENGTH = 16
RATE_WINDOW_SECONDS = 60
_REDIS_ERRORS = (redis.RedisError, OSError, asyncio.TimeoutError)

# Both lookups first count the request against the client's limit (KEYS[1], ARGV[1] limit with
# 0 for none, ARGV[2] window seconds) and answer {0} when it is reached.
_COUNT = """
local limit = tonumber(ARGV[1])
if limit > 0 then
    local n = redis.call('INCR', KEYS[1])
    if n == 1 then redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]) + 1) end
    if n > limit then return {0} end
end
"""

# KEYS: rate key, gold version key, workspace version key, the caller's workspace version key.
# ARGV: limit (0: none), window seconds, key head (prefix + "api:v1:"), key tail (path?params),
# fast-path head (prefix + "api:v1f:"), fast-path tail ('' for none), route template, ttl.
# A hit is also stored under the fast-path key (see serving_api.fast_path).
_LOOKUP = (
    _COUNT
    + """
local gv = redis.call('GET', KEYS[2]) or '0'
local wv = redis.call('GET', KEYS[3]) or '0'
local key = ARGV[3] .. gv .. ':' .. wv .. ':' .. ARGV[4]
local stored = redis.call('GET', key)
local fast = ''
if ARGV[6] ~= '' then
    fast = ARGV[5] .. gv .. ':' .. (redis.call('GET', KEYS[4]) or '0') .. ':' .. ARGV[6]
    if stored then
        redis.call('SET', fast,
            string.sub(stored, 1, 16) .. ARGV[7] .. '\\0' .. string.sub(stored, 17),
            'EX', tonumber(ARGV[8]))
    end
end
return {1, key, stored, fast}
"""
)

# The fast path's lookup. KEYS: rate key, gold version key, the caller's workspace version key.
# ARGV: limit (0: none), window seconds, fast-path head, fast-path tail.
_FAST = (
    _COUNT
    + """
local gv = redis.call('GET', KEYS[2]) or '0'
local wv = redis.call('GET', KEYS[3]) or '0'
return {1, redis.call('GET', ARGV[3] .. gv .. ':' .. wv .. ':' .. ARGV[4])}
"""
)

_RATE = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1]) + 1) end
return n
"""


def redis_client(url: str, *, max_connections: int, timeout: float = 2.0) -> aioredis.Redis:
    """An asyncio client on a bounded, blocking pool: a burst waits up to `timeout` for a free
    connection instead of failing. Short socket timeouts and one immediate retry (for a
    connection the server closed) keep a dead Redis cheap."""
    pool = aioredis.BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=timeout,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
        retry=Retry(NoBackoff(), 1),
    )
    return aioredis.Redis(connection_pool=pool)


def etag_of(body: bytes) -> str:
    return hashlib.blake2b(body, digest_size=ETAG_LENGTH // 2).hexdigest()


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    for tag in if_none_match.split(","):
        tag = tag.strip()
        if tag == "*" or tag.removeprefix("W/").strip('"') == etag:
            return True
    return False


class ResponseCache:
    """JSON responses under `{prefix}api:v1:{gold}:{workspace version}:{path}?{params}`."""

    def __init__(
        self,
        client: aioredis.Redis | None,
        *,
        prefix: str = DEFAULT_PREFIX,
        ttl_seconds: int = 300,
        retry_after_seconds: float = 5.0,
        rate_limit_per_minute: int = 0,
        lock_wait_seconds: float = 2.0,
        pipelined: PipelinedRedis | None = None,
    ) -> None:
        """`pipelined`: the same Redis through serving_api.redis_pipe, for the fast path's
        lookups (redis-py's client otherwise)."""
        self.client = client
        self.pipelined = pipelined if client is not None else None
        self.prefix = prefix
        self.ttl_seconds = ttl_seconds
        self.rate_limit = rate_limit_per_minute
        self.lock_wait_seconds = lock_wait_seconds
        # After a failure, skip Redis for a while: a blackholed host would otherwise cost every
        # request a connect timeout.
        self.retry_after_seconds = retry_after_seconds
        self._failing_since: float | None = None
        self._skip_until = 0.0
        self._inflight: dict[str, asyncio.Future[bytes]] = {}
        self._filling: dict[str, asyncio.Future[tuple[CacheStatus, bytes]]] = {}
        self._closing: asyncio.Task | None = None
        self._lookup = client.register_script(_LOOKUP) if client is not None else None
        self._fast = client.register_script(_FAST) if client is not None else None
        self._fast_script = Script(_FAST)
        self._gold_version_key = gold_version_key(prefix)
        self._fast_head = f"{prefix}api:v1f:"
        self._rate = client.register_script(_RATE) if client is not None else None

    @property
    def enabled(self) -> bool:
        return self.client is not None

    def _usable(self) -> bool:
        return self.client is not None and time.monotonic() >= self._skip_until

    usable = _usable

    def workspace_version_key(self, workspace_id: int) -> str:
        return f"{self.prefix}workspace_version:{workspace_id}"

    def _rate_key(self, subject: str) -> tuple[str, int]:
        now = time.time()
        window = int(now // RATE_WINDOW_SECONDS)
        retry_after = max(1, int((window + 1) * RATE_WINDOW_SECONDS - now) + 1)
        return f"{self.prefix}ratelimit:{subject}:{window}", retry_after

    @staticmethod
    def tail(path: str, params: Mapping[str, object]) -> str:
        """`path?sorted params` without the Nones: equivalent URLs share an entry."""
        items = []
        for k, v in params.items():
            if v is None:
                continue
            for one in v if isinstance(v, list | tuple) else (v,):
                items.append((k, str(one)))
        return f"{path}?{urlencode(sorted(items))}"

    def _too_many(self, retry_after: int) -> ApiProblem:
        return ApiProblem(
            429,
            "Too Many Requests",
            f"rate limit of {self.rate_limit} requests per minute reached",
            headers={"Retry-After": str(retry_after)},
        )

    async def check_rate(self, principal: Principal) -> None:
        """Count one request of this client; 429 past the limit (no limit without Redis)."""
        await self.check_rate_key(principal.subject)

    async def check_rate_key(self, subject: str) -> None:
        if self.rate_limit <= 0 or not self._usable() or PENDING.get() is not None:
            return  # (the fast path counted this request already)
        key, retry_after = self._rate_key(subject)
        try:
            count = await self._rate(keys=[key], args=[RATE_WINDOW_SECONDS])
        except _REDIS_ERRORS as exc:
            self._failed(exc)
            return
        self._recovered()
        if int(count) > self.rate_limit:
            raise self._too_many(retry_after)

    async def fast_lookup(self, principal: Principal, tail: str) -> bytes | None:
        """The fast path's one round trip: count the request, then the entry stored for
        `tail` under the current gold and workspace versions (b"" when there is none). None
        when the limit is reached or Redis failed (then nothing was counted)."""
        rate_key, _ = self._rate_key(principal.subject)
        keys = [
            rate_key,
            self._gold_version_key,
            self.workspace_version_key(principal.workspace_id),
        ]
        args = [self.rate_limit, RATE_WINDOW_SECONDS, self._fast_head, tail]
        try:
            if self.pipelined is not None:
                found = await self.pipelined.evalsha(self._fast_script, keys, args)
            else:
                found = await self._fast(keys=keys, args=args)
        except _REDIS_ERRORS as exc:
            self._failed(exc)
            return None
        self._recovered()
        if int(found[0]) == 0:
            return None
        return (found[1] if len(found) > 1 else None) or b""

    async def respond(
        self,
        request: Request,
        principal: Principal | None,
        path: str,
        params: Mapping[str, object],
        load: Callable[[], BaseModel],
        *,
        fast: bool = True,
    ) -> Response:
        """The cached JSON for (workspace, path, params), or `load()` (run in a thread)
        serialised, cached and returned. `params` are the endpoint's validated parameters, not
        the raw query string. Exceptions from `load` (404, 503) propagate and are never cached.
        `principal` None: the same answer for every workspace (and no rate limit).

        After the fast path missed, the answer is also stored under its raw-query key for the
        next such request; `fast=False` when the answer depends on more than the request and
        the versions (e.g. today's date)."""
        tail = self.tail(path, params)
        pending = PENDING.get()
        quick = pending if fast else None
        workspace = principal.workspace_id if principal is not None else 0
        if not self._usable():
            CACHE_LOOKUPS.labels("bypass").inc()
            body = await self._load_once(f"bypass:{workspace}:{tail}", load)
            return self._response(request, body, etag_of(body), "bypass")
        rate_key, retry_after = (
            self._rate_key(principal.subject) if principal is not None else ("", 0)
        )
        # counted once: by the fast path when it missed
        limit = self.rate_limit if principal is not None and pending is None else 0
        route = request.scope.get("route")
        template = getattr(route, "path", None) or request.url.path
        try:
            found = await self._lookup(
                keys=[
                    rate_key or f"{self.prefix}ratelimit:none",
                    self._gold_version_key,
                    self.workspace_version_key(workspace),
                    self.workspace_version_key(quick.workspace_id if quick else workspace),
                ],
                args=[
                    limit,
                    RATE_WINDOW_SECONDS,
                    f"{self.prefix}api:v1:",
                    f"{workspace}:{tail}",
                    self._fast_head,
                    quick.tail if quick else "",
                    template,
                    self.ttl_seconds,
                ],
            )
        except _REDIS_ERRORS as exc:
            self._failed(exc)
            CACHE_LOOKUPS.labels("bypass").inc()
            body = await self._load_once(f"bypass:{workspace}:{tail}", load)
            return self._response(request, body, etag_of(body), "bypass")
        self._recovered()
        if int(found[0]) == 0:
            raise self._too_many(retry_after)
        key = found[1].decode() if isinstance(found[1], bytes) else str(found[1])
        stored = found[2] if len(found) > 2 else None
        if stored:
            CACHE_LOOKUPS.labels("hit").inc()
            return self._response(
                request, stored[ETAG_LENGTH:], stored[:ETAG_LENGTH].decode(), "hit"
            )
        status, stored = await self._fill(key, load)
        fast_key = found[3] if len(found) > 3 else None
        if fast_key:
            try:
                await self.client.set(
                    fast_key,
                    pack(stored[:ETAG_LENGTH], template, stored[ETAG_LENGTH:]),
                    ex=self.ttl_seconds,
                )
            except _REDIS_ERRORS as exc:
                self._failed(exc)
        return self._response(request, stored[ETAG_LENGTH:], stored[:ETAG_LENGTH].decode(), status)

    async def _fill(self, key: str, load: Callable[[], BaseModel]) -> tuple[CacheStatus, bytes]:
        """`_fill_once` shared by this process's concurrent misses of `key`: one of them takes
        the lock (or polls Redis for another process's bytes), the others wait for its result
        without a Redis call (a burst of misses would otherwise poll Redis every 20 ms each)."""
        running = self._filling.get(key)
        if running is not None:
            return await asyncio.shield(running)
        future: asyncio.Future[tuple[CacheStatus, bytes]] = (
            asyncio.get_running_loop().create_future()
        )
        self._filling[key] = future
        try:
            result = await self._fill_once(key, load)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: no warning when nobody waited
            raise
        finally:
            self._filling.pop(key, None)
        future.set_result(result)
        return result

    async def _fill_once(
        self, key: str, load: Callable[[], BaseModel]
    ) -> tuple[CacheStatus, bytes]:
        """Load and store under `key` once across processes; others wait for the bytes."""
        lock = f"{key}:lock"
        try:
            owner = await self.client.set(
                lock, b"1", nx=True, px=int(self.lock_wait_seconds * 2000)
            )
            if not owner:
                deadline = time.monotonic() + self.lock_wait_seconds
                while time.monotonic() < deadline:
                    await asyncio.sleep(0.02)
                    stored = await self.client.get(key)
                    if stored:
                        CACHE_LOOKUPS.labels("hit").inc()
                        return "hit", stored
        except _REDIS_ERRORS as exc:
            self._failed(exc)
            owner = False
        CACHE_LOOKUPS.labels("miss").inc()
        body = await self._load_once(key, load)
        stored = etag_of(body).encode() + body
        try:
            await self.client.set(key, stored, ex=self.ttl_seconds)
            if owner:
                await self.client.delete(lock)
        except _REDIS_ERRORS as exc:
            self._failed(exc)
        return "miss", stored

    async def _load_once(self, key: str, load: Callable[[], BaseModel]) -> bytes:
        """Concurrent misses of one key in this process share one load."""
        running = self._inflight.get(key)
        if running is not None:
            return await asyncio.shield(running)
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            body = await run_in_threadpool(lambda: load().model_dump_json().encode())
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning when nobody waited
            raise
        finally:
            self._inflight.pop(key, None)
        future.set_result(body)
        return body

    @staticmethod
    def _response(request: Request, body: bytes, etag: str, status: CacheStatus) -> Response:
        headers = {
            CACHE_HEADER: status,
            "ETag": f'"{etag}"',
            "Cache-Control": "private, no-cache",
            "Vary": "Authorization",
        }
        if _matches(request.headers.get("if-none-match"), etag):
            return Response(status_code=304, headers=headers)
        return Response(content=body, media_type="application/json", headers=headers)

    async def bump_workspace(self, workspace_id: int) -> None:
        """After a workspace's lists change: its cached answers become unreachable."""
        if self.client is None:
            return
        try:
            await self.client.incr(self.workspace_version_key(workspace_id))
        except _REDIS_ERRORS as exc:
            self._failed(exc)

    async def status(self) -> tuple[Literal["ok", "disabled", "error"], int | None]:
        """Cache state and gold version for /readyz; asks Redis even while skipping it."""
        if self.client is None:
            return "disabled", None
        try:
            value = await self.client.get(gold_version_key(self.prefix))
        except _REDIS_ERRORS as exc:
            self._failed(exc)
            return "error", None
        self._recovered()
        return "ok", 0 if value is None else int(value)

    async def aclose(self) -> None:
        if self.pipelined is not None:
            await self.pipelined.aclose()
        if self.client is not None:
            await self.client.aclose()
            await self.client.connection_pool.disconnect()

    def _failed(self, exc: BaseException) -> None:
        first = self._failing_since is None
        if first:
            self._failing_since = time.monotonic()
        self._skip_until = time.monotonic() + self.retry_after_seconds
        if first:
            log.warning("Redis cache unavailable, serving from PostgreSQL: %s", exc)
        if self.pipelined is not None and self._closing is None:
            # The pool's idle connections are likely dead too (a restarted Redis): closed now,
            # they reconnect when used, instead of failing the first requests after recovery.
            self._closing = asyncio.get_running_loop().create_task(self._close_idle())

    async def _close_idle(self) -> None:
        try:
            await self.client.connection_pool.disconnect(inuse_connections=False)
        except Exception:  # best effort: a failing close changes nothing
            pass
        finally:
            self._closing = None

    def _recovered(self) -> None:
        if self._failing_since is None:
            return
        since, self._failing_since = self._failing_since, None
        log.info("Redis cache available again after %.1f s", time.monotonic() - since)
