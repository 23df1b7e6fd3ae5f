"""Response cache in Redis, keyed by the gold version so a pipeline bump invalidates everything.

Redis is optional infrastructure (principle 6): not configured means every response bypasses
the cache; Redis failing at runtime means a warning once per failure burst, then PostgreSQL
answers until Redis is back. Nothing here may turn a Redis problem into an error response.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Literal
from urllib.parse import urlencode

import redis
from fastapi import Response
from pydantic import BaseModel
from redis.backoff import NoBackoff
from redis.retry import Retry

from analisa.core.gold_version import DEFAULT_PREFIX, read_gold_version

log = logging.getLogger(__name__)

CacheStatus = Literal["hit", "miss", "bypass"]
CACHE_HEADER = "X-Cache"


def redis_client(url: str, *, max_connections: int, timeout: float = 2.0) -> redis.Redis:
    """A client on a bounded, blocking pool.

    The default pool raises MaxConnectionsError under a burst of concurrent requests; this one
    makes a request wait up to `timeout` for a free connection. Short socket timeouts and a
    single immediate retry (for a connection the server closed) keep a dead Redis cheap.
    """
    pool = redis.BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=timeout,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
        retry=Retry(NoBackoff(), 1),
    )
    return redis.Redis(connection_pool=pool)


class ResponseCache:
    """JSON responses cached under `{prefix}api:v1:{gold_version}:{path}?{sorted params}`."""

    def __init__(
        self,
        client: redis.Redis | None,
        *,
        prefix: str = DEFAULT_PREFIX,
        ttl_seconds: int = 300,
        retry_after_seconds: float = 5.0,
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.ttl_seconds = ttl_seconds
        # After a failure, skip Redis for a while: a blackholed host would otherwise cost every
        # request a connect timeout.
        self.retry_after_seconds = retry_after_seconds
        self._lock = threading.Lock()
        self._failing_since: float | None = None
        self._skip_until = 0.0

    @property
    def enabled(self) -> bool:
        return self.client is not None

    def key(self, version: int, path: str, params: Mapping[str, object]) -> str:
        query = urlencode(sorted((k, str(v)) for k, v in params.items() if v is not None))
        return f"{self.prefix}api:v1:{version}:{path}?{query}"

    def respond(
        self, path: str, params: Mapping[str, object], load: Callable[[], BaseModel]
    ) -> Response:
        """The cached JSON for (path, params), or `load()` serialised and cached.

        `params` are the endpoint's validated parameters (defaults included), not the raw query
        string: equivalent URLs share an entry and unknown parameters cannot grow the cache.
        Exceptions from `load` (404, 503) propagate and are never cached.
        """
        if self.client is None or time.monotonic() < self._skip_until:
            return _json(load().model_dump_json().encode(), "bypass")
        try:
            key = self.key(read_gold_version(self.client, self.prefix), path, params)
            cached = self.client.get(key)
        except redis.RedisError as exc:
            self._failed(exc)
            return _json(load().model_dump_json().encode(), "bypass")
        self._recovered()
        if cached is not None:
            return _json(cached, "hit")
        body = load().model_dump_json().encode()
        try:
            self.client.set(key, body, ex=self.ttl_seconds)
        except redis.RedisError as exc:
            self._failed(exc)
        return _json(body, "miss")

    def status(self) -> tuple[Literal["ok", "disabled", "error"], int | None]:
        """Cache state and gold version for /healthz; asks Redis even while skipping it."""
        if self.client is None:
            return "disabled", None
        try:
            version = read_gold_version(self.client, self.prefix)
        except redis.RedisError as exc:
            self._failed(exc)
            return "error", None
        self._recovered()
        return "ok", version

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client.connection_pool.disconnect()

    def _failed(self, exc: Exception) -> None:
        with self._lock:
            first = self._failing_since is None
            if first:
                self._failing_since = time.monotonic()
            self._skip_until = time.monotonic() + self.retry_after_seconds
        if first:
            log.warning("Redis cache unavailable, serving from PostgreSQL: %s", exc)

    def _recovered(self) -> None:
        if self._failing_since is None:
            return
        with self._lock:
            since, self._failing_since = self._failing_since, None
        if since is not None:
            log.info("Redis cache available again after %.1f s", time.monotonic() - since)


def _json(body: bytes, status: CacheStatus) -> Response:
    return Response(content=body, media_type="application/json", headers={CACHE_HEADER: status})
