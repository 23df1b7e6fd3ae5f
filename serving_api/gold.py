"""Read-only queries on the gold schema, through a pool of read-only connections.

Queries only read what dbt built; no metric is computed here (principle 8). psycopg errors are
translated into the two conditions the API reports as 503: no database, or no gold yet.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

import psycopg
from psycopg import errors, sql
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

log = logging.getLogger(__name__)

GOLD_NOT_BUILT = "gold layer not built yet: run `analisa pipeline`"
RECENT_POSTS = 30

# Whitelisted ORDER BY clauses; unknown values never reach SQL (the router validates `sort`).
# The platform, account_id tiebreak keeps pages stable when rates or followers are equal.
_ORDER_BY = {
    "engagement": "median_engagement_rate desc nulls last, platform, account_id",
    "-engagement": "median_engagement_rate asc nulls last, platform, account_id",
    "followers": "followers desc nulls last, platform, account_id",
    "-followers": "followers asc nulls last, platform, account_id",
}

_INFLUENCER_COLUMNS = (
    "platform, account_id, username, followers, posts_count, median_engagement_rate,"
    " mean_engagement_rate, posts_collected, captured_at"
)


class GoldNotBuiltError(Exception):
    """The gold tables do not exist yet (fresh install, before the first pipeline run)."""

    def __init__(self, message: str = GOLD_NOT_BUILT) -> None:
        super().__init__(message)


class DatabaseUnavailableError(Exception):
    """PostgreSQL did not answer (down, unreachable, or the pool stayed exhausted)."""


def _configure_read_only(conn: psycopg.Connection) -> None:
    # Session-level, so the server refuses writes whatever transaction the code opens.
    conn.execute("set default_transaction_read_only = on")
    conn.execute("set application_name = 'analisa-api'")
    conn.commit()
    # Count and page (or the parts of a detail) come from one snapshot.
    conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ


def open_pool(url: str, *, max_size: int = 10, timeout: float = 5.0) -> ConnectionPool:
    """A pool of read-only connections; opens in the background so the API starts without a DB."""
    pool = ConnectionPool(
        url,
        min_size=1,
        max_size=max_size,
        timeout=timeout,
        configure=_configure_read_only,
        kwargs={"row_factory": dict_row},
        name="analisa-api",
        open=False,
    )
    pool.open(wait=False)
    return pool


class GoldReader:
    """The gold queries the API needs; each call borrows one pooled connection."""

    def __init__(self, pool: ConnectionPool, *, timeout: float = 5.0) -> None:
        self.pool = pool
        self.timeout = timeout

    @contextmanager
    def _connection(self, timeout: float | None = None) -> Iterator[psycopg.Connection[Any]]:
        try:
            with self.pool.connection(timeout=timeout or self.timeout) as conn:
                yield conn
        except (errors.UndefinedTable, errors.InvalidSchemaName) as exc:
            log.info("gold not available: %s", exc)
            raise GoldNotBuiltError() from exc
        except PoolTimeout as exc:
            raise DatabaseUnavailableError(
                f"database unavailable: no connection within {timeout or self.timeout:g} s"
            ) from exc
        except psycopg.OperationalError as exc:
            raise DatabaseUnavailableError(f"database unavailable: {exc}".strip()) from exc

    def list_influencers(
        self, *, platform: str | None, sort: str, limit: int, offset: int
    ) -> tuple[list[dict[str, Any]], int]:
        """One page of gold.dim_influencers and the total matching the filter."""
        where = sql.SQL("where platform = %(platform)s" if platform else "")
        params = {"platform": platform, "limit": limit, "offset": offset}
        with self._connection() as conn:
            total = conn.execute(
                sql.SQL("select count(*) as n from gold.dim_influencers {}").format(where), params
            ).fetchone()["n"]
            rows = conn.execute(
                sql.SQL(
                    "select {} from gold.dim_influencers {} order by {}"
                    " limit %(limit)s offset %(offset)s"
                ).format(sql.SQL(_INFLUENCER_COLUMNS), where, sql.SQL(_ORDER_BY[sort])),
                params,
            ).fetchall()
        return rows, total

    def influencer_detail(self, platform: str, account_id: str) -> dict[str, Any] | None:
        """The influencer row with its latest audience, recent posts and deleted-post count."""
        key = {"platform": platform, "account_id": account_id, "recent": RECENT_POSTS}
        with self._connection() as conn:
            row = conn.execute(
                sql.SQL(
                    "select {}, (select count(*) from gold.fct_post_engagement p"
                    "   where p.platform = d.platform and p.account_id = d.account_id"
                    "   and p.is_deleted) as deleted_posts_count"
                    " from gold.dim_influencers d"
                    " where platform = %(platform)s and account_id = %(account_id)s"
                ).format(sql.SQL(_INFLUENCER_COLUMNS)),
                key,
            ).fetchone()
            if row is None:
                return None
            # Only the latest snapshot of each dimension, should gold keep several.
            segments = conn.execute(
                """
                select dimension, segment, share, followers_in_segment
                from (
                    select *, rank() over (
                        partition by dimension order by captured_at desc nulls last
                    ) as snapshot_rank
                    from gold.audience_segments
                    where platform = %(platform)s and account_id = %(account_id)s
                ) s
                where snapshot_rank = 1
                order by dimension, share desc nulls last, segment
                """,
                key,
            ).fetchall()
            posts = conn.execute(
                """
                select post_id, posted_at, media_type, likes, comments, shares, views, reach,
                       followers_at_capture, engagement_rate_followers, engagement_rate_reach,
                       engagement_rate_views, likes_hidden, captured_at
                from gold.fct_post_engagement
                where platform = %(platform)s and account_id = %(account_id)s
                  and is_deleted is not true
                order by posted_at desc nulls last, post_id desc
                limit %(recent)s
                """,
                key,
            ).fetchall()
        audience: dict[str, list[dict[str, Any]]] = {}
        for segment in segments:
            audience.setdefault(segment.pop("dimension"), []).append(segment)
        return {**row, "audience": audience, "recent_posts": posts}

    def probe(self, timeout: float = 2.0) -> Literal["ready", "not_built"] | None:
        """`ready` / `not_built` (gold tables) when the database answers; None when it does not."""
        try:
            with self._connection(min(timeout, self.timeout)) as conn:
                found = conn.execute(
                    "select to_regclass('gold.dim_influencers') is not null as ready"
                ).fetchone()
        except DatabaseUnavailableError:
            return None
        return "ready" if found["ready"] else "not_built"
