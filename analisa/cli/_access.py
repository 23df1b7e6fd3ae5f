"""What the access commands share: the migrated database, without progress on stdout (the
token and the client secret are the only things these commands print there)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import psycopg

from analisa.cli.runtime import fail, load_settings
from analisa.core.db import migrate, resolve_database_url
from analisa.core.settings import Settings


@contextlib.contextmanager
def access_db() -> Iterator[tuple[Settings, psycopg.Connection]]:
    settings = load_settings()
    url = resolve_database_url(settings)
    try:
        migrate(url)
        with psycopg.connect(url, connect_timeout=10) as conn:
            yield settings, conn
    except psycopg.OperationalError as exc:
        raise fail(f"Cannot reach the database: {exc}".strip()) from None


def bump_workspace_version(settings: Settings, workspace_id: int) -> None:
    """Cached API answers of the workspace become unreachable (best effort: they also expire)."""
    if not settings.redis_url:
        return
    import redis

    from analisa.core.gold_version import DEFAULT_PREFIX

    with contextlib.suppress(redis.RedisError):
        client = redis.Redis.from_url(settings.redis_url, socket_timeout=2)
        client.incr(f"{DEFAULT_PREFIX}workspace_version:{workspace_id}")
