"""Shared rate budgets: what every worker must respect before each call, at the level the
platform applies its limits (see connectors/<platform>/limits.py for which scopes a call uses).

- Blocks: once a platform says "stop" for a scope (Instagram code 4: the whole app; 17 / 32 /
  613 / 80002: one account), no worker calls inside that scope until the block ends. A block is
  a key holding the time it ends (by the budget's clock, so tests and the time-scaled sandbox
  can let a day pass in seconds); later blocks only ever extend it.
- Windows: TikTok's 600 requests per minute per endpoint is a sliding window the workers count
  together (a sorted set per scope); a call waits for a free slot, never spends one it lacks.
- Usage: the usage headers (X-App-Usage, X-Business-Use-Case-Usage) are stored per scope on
  every answer; above the slow-down threshold calls are spaced out, at 100 % they stop.
With Redis all of this is shared by every worker; without Redis it lives in this process.
Waiting is never an attempt: a wait longer than `max_inline_wait` ends the round with its
exact end time, and the task is rescheduled for then (connectors/outbox.py).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Scope:
    """One limit: `key` names who shares it; a window scope also counts calls itself."""

    key: str
    window_limit: int | None = None
    window_seconds: float = 60.0
    metered: bool = False
    """The platform reports usage of this scope (percent of a window of `window_seconds`):
    the calls are logged, so at 100 % the scope waits exactly until its oldest call leaves
    the window instead of calling into a throttle."""


class MustWait(Exception):
    """Raised before a call that the budget does not allow yet."""

    def __init__(self, seconds: float, scope: str, why: str):
        super().__init__(f"{why} ({scope}): wait {seconds:.1f}s")
        self.seconds = seconds
        self.scope = scope
        self.why = why


_EXTEND_BLOCK = """
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
local new = tonumber(ARGV[1])
if new > cur then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""

# A slot in a sliding window (times in seconds): drop calls older than the window, then take a
# slot if one is free (returns minus the calls now in the window, a number below 0) or return
# the milliseconds until a slot frees (at least 1).
_TAKE_SLOT = """
local now = tonumber(ARGV[1])
local span = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - span)
local n = redis.call('ZCARD', KEYS[1])
if n < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('EXPIRE', KEYS[1], math.ceil(span) + 3600)
  return -(n + 1)
end
local oldest = redis.call('ZRANGE', KEYS[1], n - limit, n - limit, 'WITHSCORES')
return math.max(1, math.ceil((tonumber(oldest[2]) + span - now) * 1000))
"""


# Below this many of our own calls in a window, a usage percentage says nothing of the limit.
MIN_CALLS_FOR_ESTIMATE = 10


class RateBudget:
    def __init__(
        self,
        redis_client=None,
        prefix: str = "analisa:",
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] | None = None,
        *,
        max_inline_wait: float = 60.0,
        slowdown_percent: int = 80,
        pace_seconds: float = 2.0,
    ):
        self._redis = redis_client
        self._prefix = prefix
        self._clock = clock
        self._sleep = sleep or (lambda s: time.sleep(s))
        self.max_inline_wait = max_inline_wait
        """Waits up to this long (budget clock) happen in the call; longer ones end the round."""
        self.slowdown_percent = slowdown_percent
        self.pace_seconds = pace_seconds
        """Pause before a call at 100 % usage; scaled linearly from the slow-down threshold."""
        self._blocks: dict[str, float] = {}
        self._windows: dict[str, list[tuple[float, str]]] = {}
        self._usage: dict[str, int] = {}
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.waited_seconds = 0.0
        self.last_wait_scope = ""
        """The scope of the latest wait inside `acquire` (for the throttling metrics)."""
        self.window_fill: dict[str, int] = {}
        """Calls in each sliding window right after this budget last took a slot in it."""
        self._slot_at: dict[str, float] = {}
        """When this budget last took a slot in each scope: the call an answer is about."""
        if redis_client is not None:
            self._extend = redis_client.register_script(_EXTEND_BLOCK)
            self._take = redis_client.register_script(_TAKE_SLOT)

    # -- blocks -------------------------------------------------------------------------------
    def _block_key(self, scope: str) -> str:
        return f"{self._prefix}ratelimit:block:{scope}"

    def block(self, scope: str, seconds: float) -> None:
        """No call inside `scope` for `seconds` (by this budget's clock); only ever extends."""
        seconds = max(1.0, seconds)
        until = self._clock() + seconds
        if self._redis is not None:
            # the key's own expiry only cleans up: a clock running faster than real time
            # (tests, the time-scaled sandbox) still reads the end time from the value
            self._extend(keys=[self._block_key(scope)], args=[until, int(seconds * 1000) + 60000])
        else:
            with self._lock:
                self._blocks[scope] = max(self._blocks.get(scope, 0.0), until)

    def blocked_for(self, scopes: Iterable[str]) -> tuple[float, str]:
        """The longest wait among these scopes' blocks (0 when all are free), and its scope."""
        scopes = list(scopes)
        if not scopes:
            return 0.0, ""
        now = self._clock()
        if self._redis is not None:
            values = self._redis.mget([self._block_key(s) for s in scopes])
            untils = [float(v) if v else 0.0 for v in values]
        else:
            with self._lock:
                untils = [self._blocks.get(s, 0.0) for s in scopes]
        wait, scope = max(zip((u - now for u in untils), scopes, strict=True))
        return max(0.0, wait), scope

    # -- usage --------------------------------------------------------------------------------
    def _usage_key(self, scope: str) -> str:
        return f"{self._prefix}ratelimit:usage:{scope}"

    def _limit_key(self, scope: str) -> str:
        return f"{self._prefix}ratelimit:limit:{scope}"

    def record_usage(
        self, scope: str, percent: int, window_seconds: float = 3600.0, *, estimate: bool = True
    ) -> None:
        """Store a scope's reported usage; from half-full on, also the smallest limit it allows
        (our calls logged in the window × 100 / (percent + 1), plus one: the percent is rounded
        down), which metered scopes then count against atomically, so concurrent workers never
        overshoot the last slots. Too few logged calls (someone else's use, a fault) imply
        nothing. The calls counted are those logged up to this budget's latest one, which the
        answer is about: calls other workers logged since were not yet made when the platform
        counted, and counting them would imply a limit above the real one (calls into a
        throttle at the end of each window)."""
        implied = None
        if estimate and percent >= 50:
            logged = self._logged(scope, window_seconds, until=self._slot_at.get(scope))
            if logged >= MIN_CALLS_FOR_ESTIMATE:
                # the smallest limit this percent allows: usage is rounded down (148 calls of
                # 150 say 98 %), so logged × 100 / percent would overshoot (151); an answer
                # at 100 % that is no throttle came with the last call the limit allows
                implied = logged if percent >= 100 else int(logged * 100 / (percent + 1)) + 1
        estimate_value = implied
        if self._redis is not None:
            pipe = self._redis.pipeline()
            pipe.set(self._usage_key(scope), int(percent), ex=3600)
            if estimate_value:
                pipe.set(self._limit_key(scope), estimate_value, ex=int(window_seconds) + 3600)
            pipe.execute()
        else:
            with self._lock:
                self._usage[scope] = int(percent)
                if estimate_value:
                    self._usage[f"limit:{scope}"] = estimate_value

    def usage(self, scope: str) -> int:
        if self._redis is not None:
            value = self._redis.get(self._usage_key(scope))
            return int(value) if value else 0
        with self._lock:
            return self._usage.get(scope, 0)

    def limit_estimate(self, scope: str) -> int | None:
        if self._redis is not None:
            value = self._redis.get(self._limit_key(scope))
            return int(value) if value else None
        with self._lock:
            return self._usage.get(f"limit:{scope}")

    # -- before each call ---------------------------------------------------------------------
    def acquire(self, scopes: Iterable[Scope]) -> None:
        """Wait until a call inside all these scopes is allowed, or raise MustWait."""
        scopes = list(scopes)
        while True:
            wait, scope = self.blocked_for(s.key for s in scopes)
            if wait > 0:
                self._wait_or_raise(wait, scope, "blocked by the platform")
                continue
            pace, paced = self._pace(scopes)
            if pace > 0:
                self._sleep(pace)
                self.waited_seconds += pace
                self.last_wait_scope = paced
            taken: list[tuple[Scope, str]] = []
            for s in scopes:
                if s.window_limit is None and not s.metered:
                    continue
                limit = s.window_limit
                if limit is None:  # metered: count against the limit the usage implies
                    limit = self.limit_estimate(s.key) or 1_000_000_000
                member = uuid.uuid4().hex
                slot_wait = self._take_slot(s, limit, member)
                if slot_wait > 0:
                    for done, m in taken:  # give back the slots taken in the other scopes
                        self._release(done, m)
                    self._wait_or_raise(slot_wait, s.key, "window full")
                    break
                taken.append((s, member))
            else:
                return

    def _window_key(self, scope: str) -> str:
        return f"{self._prefix}ratelimit:window:{scope}"

    def _logged(self, scope: str, window_seconds: float, until: float | None = None) -> int:
        """Calls logged in the window (up to `until`, budget clock, when given)."""
        now = self._clock()
        end = "+inf" if until is None else until
        if self._redis is not None:
            return int(self._redis.zcount(self._window_key(scope), now - window_seconds, end))
        last = float("inf") if until is None else until
        with self._lock:
            return sum(
                1 for t, _ in self._windows.get(scope, []) if now - window_seconds < t <= last
            )

    def _release(self, scope: Scope, member: str) -> None:
        if self._redis is not None:
            self._redis.zrem(self._window_key(scope.key), member)
        else:
            with self._lock:
                hits = self._windows.get(scope.key, [])
                self._windows[scope.key] = [h for h in hits if h[1] != member]

    def window_frees_in(self, scope: str, window_seconds: float) -> float | None:
        """Seconds until the oldest call we logged in `scope` leaves its window (None: none)."""
        now = self._clock()
        if self._redis is not None:
            oldest = self._redis.zrangebyscore(
                self._window_key(scope),
                now - window_seconds,
                "+inf",
                start=0,
                num=1,
                withscores=True,
            )
            first = oldest[0][1] if oldest else None
        else:
            with self._lock:
                log = [t for t, _ in self._windows.get(scope, []) if t > now - window_seconds]
            first = min(log) if log else None
        return None if first is None else max(0.001, first + window_seconds - now)

    def _wait_or_raise(self, seconds: float, scope: str, why: str) -> None:
        if seconds > self.max_inline_wait:
            raise MustWait(seconds, scope, why)
        self._sleep(seconds)
        self.waited_seconds += seconds
        self.last_wait_scope = scope

    def _pace(self, scopes: list[Scope]) -> tuple[float, str]:
        """Space calls out as usage nears 100 % (0 below the slow-down threshold); the pause
        and the fullest scope, which causes it."""
        highest, scope = max(((self.usage(s.key), s.key) for s in scopes), default=(0, ""))
        if highest < self.slowdown_percent:
            return 0.0, scope
        share = (highest - self.slowdown_percent) / max(1, 100 - self.slowdown_percent)
        return self.pace_seconds * min(1.0, share), scope

    def _take_slot(self, scope: Scope, limit: int, member: str) -> float:
        """0 when a slot was taken in the window, else seconds until one frees."""
        now = self._clock()
        if self._redis is not None:
            answer = int(
                self._take(
                    keys=[self._window_key(scope.key)],
                    args=[now, scope.window_seconds, limit, member],
                )
            )
            if answer < 0:
                self.window_fill[scope.key] = -answer
                self._slot_at[scope.key] = now
                return 0.0
            return float(answer) / 1000.0
        with self._lock:
            since = now - scope.window_seconds
            hits = [h for h in self._windows.get(scope.key, []) if h[0] > since]
            if len(hits) < limit:
                hits.append((now, member))
                self._windows[scope.key] = hits
                self.window_fill[scope.key] = len(hits)
                self._slot_at[scope.key] = now
                return 0.0
            self._windows[scope.key] = hits
            return max(0.001, hits[len(hits) - limit][0] + scope.window_seconds - now)

    # -- counting -----------------------------------------------------------------------------
    def count_call(self, platform: str, endpoint: str) -> None:
        self.calls[f"{platform}/{endpoint}"] += 1
        if self._redis is not None:
            day = time.strftime("%Y%m%d", time.gmtime(self._clock()))
            key = f"{self._prefix}quota:{day}:{platform}:{endpoint}"
            pipe = self._redis.pipeline()
            pipe.incr(key)
            pipe.expire(key, 8 * 86400)
            pipe.execute()
