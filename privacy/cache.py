"""The API's Redis cache after an erasure: nothing cached may still show the person.

The gold version is bumped (every cached answer becomes unreachable at once, as after a gold
build), and every key under the deployment's prefix whose name or cached value names the person
is deleted outright rather than left to expire: answers, single-flight locks, rate budgets keyed
by the account.
"""

from __future__ import annotations

from analisa.core.gold_version import bump_gold_version
from privacy.matching import Terms

MAX_VALUE_BYTES = 8 * 1024 * 1024


def _mentions(terms: Terms, raw: bytes | None) -> bool:
    if raw is None:
        return False
    text = raw[:MAX_VALUE_BYTES].decode("utf-8", errors="replace")
    return terms.in_text(text)


def purge(redis_url: str, prefix: str, terms: Terms) -> dict[str, int]:
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        version = bump_gold_version(client, prefix=prefix)
        deleted = 0
        for key in client.scan_iter(match=_escape(prefix) + "*", count=1000):
            name = key.decode("utf-8", errors="replace")
            hit = terms.in_text(name)
            if not hit and client.type(key) == b"string":
                hit = _mentions(terms, client.get(key))
            if hit:
                deleted += client.delete(key)
        return {"gold_version": version, "keys_deleted": deleted}
    finally:
        client.close()


def remaining(redis_url: str, prefix: str, terms: Terms) -> int:
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        n = 0
        for key in client.scan_iter(match=_escape(prefix) + "*", count=1000):
            name = key.decode("utf-8", errors="replace")
            if terms.in_text(name) or (
                client.type(key) == b"string" and _mentions(terms, client.get(key))
            ):
                n += 1
        return n
    finally:
        client.close()


def _escape(prefix: str) -> str:
    """A prefix as a literal in a SCAN pattern."""
    return "".join("\\" + ch if ch in "*?[]\\" else ch for ch in prefix)
