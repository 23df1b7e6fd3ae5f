"""Sliding-window call counters, the way both platforms meter calls."""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable
from datetime import datetime, timedelta


class SlidingWindows:
    """Call times per key; callers hold the world lock."""

    def __init__(self) -> None:
        self._hits: dict[Hashable, deque[datetime]] = {}

    def _window(self, key: Hashable, now: datetime, span: timedelta) -> deque[datetime]:
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - span:
            hits.popleft()
        return hits

    def count(self, key: Hashable, now: datetime, span: timedelta) -> int:
        return len(self._window(key, now, span))

    def hit(self, key: Hashable, now: datetime) -> None:
        self._hits.setdefault(key, deque()).append(now)

    def regain_seconds(self, key: Hashable, now: datetime, span: timedelta, limit: int) -> float:
        """Seconds until the window holds fewer than `limit` calls again (0 if it already does)."""
        hits = self._window(key, now, span)
        if len(hits) < limit:
            return 0.0
        return (hits[len(hits) - limit] + span - now).total_seconds()
