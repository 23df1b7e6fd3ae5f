"""Shared throttle state: once a platform says "stop", every worker stops for that account.

With Redis the block is a key with the platform's own wait as TTL, seen by all competing
consumers; without Redis it lives in this process (one worker, so nothing to share).
Calls made and the platform's own usage figures are counted too (quota use is a number).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable


class RateBudget:
    def __init__(
        self,
        redis_client=None,
        prefix: str = "analisa:",
        clock: Callable[[], float] = time.time,
    ):
        self._redis = redis_client
        self._prefix = prefix
        self._clock = clock
        self._blocks: dict[str, float] = {}
        self.calls: Counter[str] = Counter()

    def _key(self, platform: str, account_id: str) -> str:
        return f"{self._prefix}ratelimit:block:{platform}:{account_id}"

    def block(self, platform: str, account_id: str, seconds: float) -> None:
        seconds = max(1.0, seconds)
        if self._redis is not None:
            self._redis.set(self._key(platform, account_id), "1", px=int(seconds * 1000))
        else:
            self._blocks[self._key(platform, account_id)] = self._clock() + seconds

    def blocked_for(self, platform: str, account_id: str) -> float:
        """Seconds left before this account may be called again (0 when free)."""
        key = self._key(platform, account_id)
        if self._redis is not None:
            ttl_ms = self._redis.pttl(key)
            return max(0.0, ttl_ms / 1000.0) if ttl_ms and ttl_ms > 0 else 0.0
        until = self._blocks.get(key, 0.0)
        return max(0.0, until - self._clock())

    def count_call(self, platform: str, endpoint: str) -> None:
        self.calls[f"{platform}/{endpoint}"] += 1
        if self._redis is not None:
            day = time.strftime("%Y%m%d", time.gmtime(self._clock()))
            key = f"{self._prefix}quota:{day}:{platform}:{endpoint}"
            pipe = self._redis.pipeline()
            pipe.incr(key)
            pipe.expire(key, 8 * 86400)
            pipe.execute()
