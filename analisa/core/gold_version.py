"""The gold version counter in Redis: the pipeline bumps it after a gold build passes its gate.

The API puts the version into every cache key, so a bump makes all older cached responses
unreachable at once (they then expire by TTL) without scanning or deleting keys.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import redis

GOLD_VERSION_KEY = "gold_version"
DEFAULT_PREFIX = "analisa:"


def gold_version_key(prefix: str = DEFAULT_PREFIX) -> str:
    return f"{prefix}{GOLD_VERSION_KEY}"


def bump_gold_version(redis_client: redis.Redis, prefix: str = DEFAULT_PREFIX) -> int:
    """Increment the gold version (atomic INCR) and return the new value."""
    return int(redis_client.incr(gold_version_key(prefix)))


def read_gold_version(redis_client: redis.Redis, prefix: str = DEFAULT_PREFIX) -> int:
    """The current gold version; 0 before the first bump."""
    value = redis_client.get(gold_version_key(prefix))
    return 0 if value is None else int(value)
