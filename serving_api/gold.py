"""Read-only queries on gold, scoped to a workspace, through a pool of the API role's connections.

Queries only read what dbt built; no metric is computed here (principle 8). Every influencer
query joins the workspace's list, so another workspace's influencer is simply not found (404).
Columns and tables that gold gains over time (growth, interests, quality, fit, sponsored
posts) are read when present and null when not: the API does not break while gold grows.
psycopg errors become the two conditions reported as 503: no database, or no gold yet.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

import psycopg
from psycopg import errors, sql
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

log = logging.getLogger(__name__)

GOLD_NOT_BUILT = "gold layer not built yet: run `analisa pipeline`"

# The search sorts: column expression per name; `-name` reverses. Nulls always last, and the
# platform, account_id tiebreak keeps pages stable.
SORT_COLUMNS = {
    "engagement": "d.median_engagement_rate",
    "growth": "d.followers_growth_30d_pct",
    "followers": "d.followers",
    "quality": "q.quality_score",
    "fit": "f.fit_score",
}

# dim_influencers columns the search returns (null when gold does not have them yet).
SUMMARY_COLUMNS = {
    "username": "text",
    "followers": "bigint",
    "median_engagement_rate": "numeric",
    "mean_engagement_rate": "numeric",
    "followers_growth_30d": "bigint",
    "followers_growth_30d_pct": "numeric",
    "sponsored_share": "numeric",
    "captured_at": "timestamptz",
}
QUALITY_SIGNALS = (
    "follower_spike",
    "engagement_vs_tier",
    "comment_like_ratio",
    "views_per_follower",
    "viral_share",
)
BRAND_COLUMNS = ("brand", "brand_name", "brand_id")


class GoldNotBuiltError(Exception):
    """A gold table does not exist yet (fresh install, or a model not built yet)."""

    def __init__(self, message: str = GOLD_NOT_BUILT) -> None:
        super().__init__(message)


class DatabaseUnavailableError(Exception):
    """PostgreSQL did not answer (down, unreachable, or the pool stayed exhausted)."""


class NotVisibleError(Exception):
    """Not in gold, or not on the calling workspace's lists: both answer 404."""


def _configure(role: str | None):
    def configure(conn: psycopg.Connection) -> None:
        if role:
            # Connected with the migrating login (development): act as the API role.
            conn.execute(sql.SQL("set role {}").format(sql.Identifier(role)))
        # Session-level: writes need an explicit `set transaction read write` (admin endpoints)
        conn.execute("set default_transaction_read_only = on")
        conn.execute("set application_name = 'analisa-api'")
        conn.execute("set statement_timeout = '10s'")
        conn.commit()
        # Count and page (or the parts of a detail) come from one snapshot.
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ

    return configure


def open_pool(
    url: str, *, max_size: int = 10, timeout: float = 5.0, set_role: str | None = None
) -> ConnectionPool:
    """A pool of read-only connections; opens in the background so the API starts without a DB."""
    pool = ConnectionPool(
        url,
        min_size=1,
        max_size=max_size,
        timeout=timeout,
        configure=_configure(set_role),
        kwargs={"row_factory": dict_row},
        name="analisa-api",
        open=False,
    )
    pool.open(wait=False)
    return pool


@dataclass
class SearchFilters:
    platform: str | None = None
    q: str | None = None
    followers_min: int | None = None
    followers_max: int | None = None
    engagement_min: float | None = None
    engagement_max: float | None = None
    growth_min: float | None = None
    growth_max: float | None = None
    quality_min: float | None = None
    quality_max: float | None = None
    sponsored_share_min: float | None = None
    sponsored_share_max: float | None = None
    interest: str | None = None
    interest_min_share: float = 0.0
    audience: list[tuple[str, str, float]] = field(default_factory=list)  # dim, segment, min
    brand: str | None = None
    fit_min: float | None = None


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


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

    @staticmethod
    def _columns(conn: psycopg.Connection[Any], table: str) -> set[str] | None:
        """The columns of gold.`table`; None when the table does not exist."""
        row = conn.execute(
            "select array_agg(attname::text) as cols from pg_attribute"
            " where attrelid = to_regclass(%s) and attnum > 0 and not attisdropped",
            (f"gold.{table}",),
        ).fetchone()
        return set(row["cols"]) if row and row["cols"] else None

    def _require(self, conn: psycopg.Connection[Any], table: str) -> set[str]:
        cols = self._columns(conn, table)
        if cols is None:
            if table == "dim_influencers":
                raise GoldNotBuiltError()
            raise GoldNotBuiltError(f"gold.{table} not built yet: run `analisa pipeline`")
        return cols

    @staticmethod
    def _visible(conn: psycopg.Connection[Any], workspace_id: int, platform: str, account: str):
        row = conn.execute(
            "select to_jsonb(d) as d from gold.dim_influencers d"
            " join ops.workspace_influencers w on w.workspace_id = %s"
            "  and w.platform = d.platform and w.account_id = d.account_id"
            " where d.platform = %s and d.account_id = %s",
            (workspace_id, platform, account),
        ).fetchone()
        if row is None:
            raise NotVisibleError(f"influencer {platform}/{account} not found")
        return row["d"]

    def _brands_query(self, conn: psycopg.Connection[Any]) -> sql.Composable:
        """The workspace's brand names (%(wid)s): those added to it (ops.brands, so a brand
        shows before its first build) and those gold built for it (gold.dim_brands, where the
        example brands of the `default` workspace live)."""
        query = sql.SQL("select brand_name from ops.brands where workspace_id = %(wid)s")
        if "workspace_id" in (self._columns(conn, "dim_brands") or set()):
            query += sql.SQL(
                " union select brand_name from gold.dim_brands where workspace_id = %(wid)s"
            )
        return query

    def owns_brand(self, conn: psycopg.Connection[Any], workspace_id: int, brand: str) -> bool:
        """Whether the brand is one of the workspace's: another workspace's is not found."""
        query = sql.SQL("select 1 from ({}) b where b.brand_name = %(brand)s").format(
            self._brands_query(conn)
        )
        return conn.execute(query, {"wid": workspace_id, "brand": brand}).fetchone() is not None

    def _fit_columns(self, conn: psycopg.Connection[Any], fit: set[str]) -> str:
        """The fit table's brand column; GoldNotBuiltError when the table predates brands
        belonging to workspaces (its rankings cannot be scoped)."""
        brand_col = next((c for c in BRAND_COLUMNS if c in fit), None)
        if brand_col is None or "fit_score" not in fit or "workspace_id" not in fit:
            raise GoldNotBuiltError(
                "gold.brand_influencer_fit not built with workspaces yet: run `analisa pipeline`"
            )
        return brand_col

    # --- search ---------------------------------------------------------------------------

    def search(
        self, workspace_id: int, filters: SearchFilters, *, sort: str, limit: int, offset: int
    ) -> tuple[list[dict[str, Any]], int]:
        """One page of the workspace's influencers matching `filters`, and the total."""
        with self._connection() as conn:
            dim = self._require(conn, "dim_influencers")
            quality = self._columns(conn, "influencer_quality")
            fit = self._columns(conn, "brand_influencer_fit")
            interests = self._columns(conn, "influencer_interests")
            audience = self._columns(conn, "audience_segments")
            params: dict[str, Any] = {"wid": workspace_id, "limit": limit, "offset": offset}

            if filters.brand is not None and not self.owns_brand(conn, workspace_id, filters.brand):
                raise NotVisibleError(f"brand {filters.brand!r} not found")
            select = [sql.SQL("d.platform"), sql.SQL("d.account_id")]
            for name, kind in SUMMARY_COLUMNS.items():
                expr = f"d.{name}" if name in dim else f"null::{kind}"
                select.append(sql.SQL(f"{expr} as {name}"))
            joins = []
            has_quality = quality is not None and "quality_score" in quality
            select.append(
                sql.SQL("q.quality_score" if has_quality else "null::numeric")
                + sql.SQL(" as quality_score")
            )
            if has_quality:
                joins.append(
                    "left join gold.influencer_quality q"
                    " on q.platform = d.platform and q.account_id = d.account_id"
                )
            if filters.brand is not None:
                brand_col = self._fit_columns(conn, fit or set())
                select.append(sql.SQL("f.fit_score as fit_score"))
                joins.append(
                    f"left join gold.brand_influencer_fit f on f.{brand_col}::text = %(brand)s"
                    " and f.workspace_id = %(wid)s"
                    " and f.platform = d.platform and f.account_id = d.account_id"
                )
                params["brand"] = filters.brand
            else:
                select.append(sql.SQL("null::numeric as fit_score"))

            where = ["true"]

            def between(column: str, low: Any, high: Any, present: bool, name: str) -> None:
                for bound, op in ((low, ">="), (high, "<=")):
                    if bound is None:
                        continue
                    key = f"{name}_{'min' if op == '>=' else 'max'}"
                    params[key] = bound
                    where.append(f"{column} {op} %({key})s" if present else "false")

            if filters.platform:
                params["platform"] = filters.platform
                where.append("d.platform = %(platform)s")
            if filters.q:
                params["q"] = _like(filters.q)
                where.append("d.username ilike %(q)s")
            between(
                "d.followers",
                filters.followers_min,
                filters.followers_max,
                "followers" in dim,
                "followers",
            )
            between(
                "d.median_engagement_rate",
                filters.engagement_min,
                filters.engagement_max,
                "median_engagement_rate" in dim,
                "engagement",
            )
            between(
                "d.followers_growth_30d_pct",
                filters.growth_min,
                filters.growth_max,
                "followers_growth_30d_pct" in dim,
                "growth",
            )
            between(
                "q.quality_score", filters.quality_min, filters.quality_max, has_quality, "quality"
            )
            between(
                "d.sponsored_share",
                filters.sponsored_share_min,
                filters.sponsored_share_max,
                "sponsored_share" in dim,
                "sponsored_share",
            )
            between("f.fit_score", filters.fit_min, None, filters.brand is not None, "fit")
            if filters.interest:
                params["interest"] = filters.interest
                params["interest_min_share"] = filters.interest_min_share
                where.append(
                    "exists (select 1 from gold.influencer_interests i"
                    " where i.platform = d.platform and i.account_id = d.account_id"
                    " and i.interest = %(interest)s and i.share >= %(interest_min_share)s)"
                    if interests is not None
                    else "false"
                )
            for n, (dimension, segment, min_share) in enumerate(filters.audience):
                params.update({f"dim{n}": dimension, f"seg{n}": segment, f"share{n}": min_share})
                where.append(
                    "exists (select 1 from gold.audience_segments a"
                    " where a.platform = d.platform and a.account_id = d.account_id"
                    f" and a.dimension = %(dim{n})s and a.segment = %(seg{n})s"
                    f" and a.share >= %(share{n})s)"
                    if audience is not None
                    else "false"
                )

            descending = not sort.startswith("-")
            column = SORT_COLUMNS[sort.lstrip("-")]
            if column.startswith("f.") and filters.brand is None:
                column = "null::numeric"  # no brand, no fit: the tiebreak orders
            if column.startswith("q.") and not has_quality:
                column = "null::numeric"
            if column.startswith("d.") and column[2:] not in dim:
                column = "null::numeric"
            order = (
                f"{column} {'desc' if descending else 'asc'} nulls last, d.platform, d.account_id"
            )
            query = sql.SQL(
                "select {}, count(*) over () as total_count from gold.dim_influencers d"
                " join ops.workspace_influencers w on w.workspace_id = %(wid)s"
                "  and w.platform = d.platform and w.account_id = d.account_id"
                " {} where {} order by {} limit %(limit)s offset %(offset)s"
            ).format(
                sql.SQL(", ").join(select),
                sql.SQL(" ".join(joins)),
                sql.SQL(" and ".join(where)),
                sql.SQL(order),
            )
            rows = conn.execute(query, params).fetchall()
            if rows:
                total = rows[0]["total_count"]
            else:
                total = conn.execute(
                    sql.SQL(
                        "select count(*) as n from gold.dim_influencers d"
                        " join ops.workspace_influencers w on w.workspace_id = %(wid)s"
                        "  and w.platform = d.platform and w.account_id = d.account_id"
                        " {} where {}"
                    ).format(sql.SQL(" ".join(joins)), sql.SQL(" and ".join(where))),
                    params,
                ).fetchone()["n"]
        for row in rows:
            row.pop("total_count", None)
        return rows, total

    # --- one influencer -------------------------------------------------------------------

    def scorecard(self, workspace_id: int, platform: str, account_id: str) -> dict[str, Any]:
        with self._connection() as conn:
            self._require(conn, "dim_influencers")
            card = self._visible(conn, workspace_id, platform, account_id)
            key = (platform, account_id)
            if self._columns(conn, "influencer_quality") is not None:
                row = conn.execute(
                    "select to_jsonb(q) as q from gold.influencer_quality q"
                    " where platform = %s and account_id = %s",
                    key,
                ).fetchone()
                quality = row["q"] if row else {}
                card["quality_score"] = quality.get("quality_score")
                card["quality_insufficient_data"] = quality.get("insufficient_data")
            card["top_interests"] = []
            if self._columns(conn, "influencer_interests") is not None:
                card["top_interests"] = conn.execute(
                    "select interest, posts_with_interest, share from gold.influencer_interests"
                    " where platform = %s and account_id = %s"
                    " order by share desc nulls last, interest limit 3",
                    key,
                ).fetchall()
            card["top_audience"] = {}
            if self._columns(conn, "audience_segments") is not None:
                for seg in conn.execute(
                    "select distinct on (dimension) dimension, segment, share"
                    " from gold.audience_segments where platform = %s and account_id = %s"
                    " order by dimension, captured_at desc nulls last, share desc nulls last,"
                    " segment",
                    key,
                ).fetchall():
                    card["top_audience"][seg.pop("dimension")] = seg
        return card

    def daily(
        self, workspace_id: int, platform: str, account_id: str, start: date, end: date
    ) -> list[dict[str, Any]]:
        with self._connection() as conn:
            self._require(conn, "dim_influencers")
            self._visible(conn, workspace_id, platform, account_id)
            self._require(conn, "fct_influencer_daily")
            rows = conn.execute(
                "select to_jsonb(x) as x from gold.fct_influencer_daily x"
                " where platform = %s and account_id = %s and day between %s and %s"
                " order by day",
                (platform, account_id, start, end),
            ).fetchall()
        return [row["x"] for row in rows]

    def posts(
        self,
        workspace_id: int,
        platform: str,
        account_id: str,
        *,
        order: Literal["recent", "top"],
        sponsored: bool | None,
        limit: int,
    ) -> list[dict[str, Any]]:
        with self._connection() as conn:
            self._require(conn, "dim_influencers")
            self._visible(conn, workspace_id, platform, account_id)
            cols = self._require(conn, "fct_post_engagement")
            where = (
                "platform = %(platform)s and account_id = %(account)s and is_deleted is not true"
            )
            params: dict[str, Any] = {"platform": platform, "account": account_id, "limit": limit}
            if sponsored is not None:
                params["sponsored"] = sponsored
                where += (
                    " and coalesce(is_sponsored, false) = %(sponsored)s"
                    if "is_sponsored" in cols
                    else " and false"
                )
            by = (
                "posted_at desc nulls last, post_id desc"
                if order == "recent"
                else "engagement_rate_followers desc nulls last, posted_at desc nulls last,"
                " post_id desc"
            )
            rows = conn.execute(
                f"select to_jsonb(p) as p from gold.fct_post_engagement p where {where}"
                f" order by {by} limit %(limit)s",
                params,
            ).fetchall()
        return [row["p"] for row in rows]

    def audience(self, workspace_id: int, platform: str, account_id: str) -> dict[str, Any]:
        with self._connection() as conn:
            self._require(conn, "dim_influencers")
            self._visible(conn, workspace_id, platform, account_id)
            self._require(conn, "audience_segments")
            segments = conn.execute(
                """
                select dimension, segment, share, followers_in_segment, captured_at
                from (
                    select *, rank() over (
                        partition by dimension order by captured_at desc nulls last
                    ) as snapshot_rank
                    from gold.audience_segments
                    where platform = %s and account_id = %s
                ) s
                where snapshot_rank = 1
                order by dimension, share desc nulls last, segment
                """,
                (platform, account_id),
            ).fetchall()
        dimensions: dict[str, list[dict[str, Any]]] = {}
        captured: dict[str, Any] = {}
        for segment in segments:
            dimension = segment.pop("dimension")
            captured[dimension] = segment.pop("captured_at")
            dimensions.setdefault(dimension, []).append(segment)
        return {"dimensions": dimensions, "captured_at": captured}

    def interests(self, workspace_id: int, platform: str, account_id: str) -> list[dict]:
        with self._connection() as conn:
            self._require(conn, "dim_influencers")
            self._visible(conn, workspace_id, platform, account_id)
            self._require(conn, "influencer_interests")
            return conn.execute(
                "select interest, posts_with_interest, share from gold.influencer_interests"
                " where platform = %s and account_id = %s order by share desc nulls last, interest",
                (platform, account_id),
            ).fetchall()

    def similar(
        self, workspace_id: int, platform: str, account_id: str, limit: int
    ) -> dict[str, Any]:
        """The workspace's creators nearest in content to this one (enrichment/lookalike.py).
        Without a content vector (enrichment off or not run yet) the list is empty and says why."""
        from enrichment.lookalike import NoContentVector
        from enrichment.lookalike import similar as nearest
        from enrichment.versions import serving_version

        with self._connection() as conn:
            self._require(conn, "dim_influencers")
            self._visible(conn, workspace_id, platform, account_id)
            if (
                conn.execute("select to_regclass('silver.enrichment_versions')").fetchone()[
                    "to_regclass"
                ]
                is None
            ):
                return {"items": [], "model_version": None, "unavailable": "enrichment not set up"}
            version = serving_version(conn)
            try:
                found = nearest(
                    conn,
                    platform,
                    account_id,
                    limit=limit,
                    among="exists (select 1 from ops.workspace_influencers w"
                    " where w.workspace_id = %(wid)s and w.platform = v.platform"
                    " and w.account_id = v.account_id)",
                    among_params={"wid": workspace_id},
                )
            except NoContentVector as exc:
                return {"items": [], "model_version": None, "unavailable": str(exc)}
            names = {
                (r["platform"], r["account_id"]): r["username"]
                for r in conn.execute(
                    "select platform, account_id, username from gold.dim_influencers"
                    " where (platform, account_id) in"
                    " (select * from unnest(%s::text[], %s::text[]))",
                    ([f.platform for f in found], [f.account_id for f in found]),
                ).fetchall()
            }
        return {
            "model_version": version[2] if version else None,
            "unavailable": None,
            "items": [
                {
                    "platform": f.platform,
                    "account_id": f.account_id,
                    "username": names.get((f.platform, f.account_id)),
                    "similarity": float(f.similarity),
                    "posts_used": f.posts_used,
                }
                for f in found
            ],
        }

    def quality(self, workspace_id: int, platform: str, account_id: str) -> dict[str, Any]:
        with self._connection() as conn:
            self._require(conn, "dim_influencers")
            self._visible(conn, workspace_id, platform, account_id)
            self._require(conn, "influencer_quality")
            row = conn.execute(
                "select to_jsonb(q) as q from gold.influencer_quality q"
                " where platform = %s and account_id = %s",
                (platform, account_id),
            ).fetchone()
        if row is None:
            raise NotVisibleError(f"no quality signals for {platform}/{account_id} yet")
        return row["q"]

    # --- brands -------------------------------------------------------------------------

    def brands(self, workspace_id: int) -> list[str]:
        with self._connection() as conn:
            rows = conn.execute(
                sql.SQL("{} order by brand_name").format(self._brands_query(conn)),
                {"wid": workspace_id},
            ).fetchall()
        return [row["brand_name"] for row in rows]

    def fit(
        self, workspace_id: int, brand: str, *, platform: str | None, limit: int, offset: int
    ) -> tuple[list[dict[str, Any]], int]:
        """The workspace's influencers ranked by fit for one of its brands."""
        with self._connection() as conn:
            if not self.owns_brand(conn, workspace_id, brand):
                raise NotVisibleError(f"brand {brand!r} not found")
            brand_col = self._fit_columns(conn, self._require(conn, "brand_influencer_fit"))
            rows = conn.execute(
                sql.SQL(
                    "select to_jsonb(f) as f, d.username, count(*) over () as total_count"
                    " from gold.brand_influencer_fit f"
                    " join ops.workspace_influencers w on w.workspace_id = %(wid)s"
                    "  and w.platform = f.platform and w.account_id = f.account_id"
                    " left join gold.dim_influencers d"
                    "  on d.platform = f.platform and d.account_id = f.account_id"
                    " where f.workspace_id = %(wid)s and f.{}::text = %(brand)s"
                    " and (%(platform)s::text is null"
                    "  or f.platform = %(platform)s)"
                    " order by f.fit_score desc nulls last, f.platform, f.account_id"
                    " limit %(limit)s offset %(offset)s"
                ).format(sql.Identifier(brand_col)),
                {
                    "wid": workspace_id,
                    "brand": brand,
                    "platform": platform,
                    "limit": limit,
                    "offset": offset,
                },
            ).fetchall()
        total = rows[0]["total_count"] if rows else 0
        return [{**row["f"], "username": row["username"]} for row in rows], total

    # --- meta -----------------------------------------------------------------------------

    def freshness(self) -> list[dict[str, Any]]:
        """Each gold table: when its gate last accepted a build, and data captured until when."""
        with self._connection() as conn:
            tables = conn.execute(
                "select c.relname::text as table_name,"
                " (select max(g.recorded_at) from ops.gate_row_counts g"
                "   where g.layer = 'gold' and g.table_name = c.relname) as built_at"
                " from pg_class c join pg_namespace n on n.oid = c.relnamespace"
                " where n.nspname = 'gold' and c.relkind in ('r', 'v', 'm', 'p')"
                " order by c.relname"
            ).fetchall()
            if not tables:
                raise GoldNotBuiltError()
            for table in tables:
                cols = self._columns(conn, table["table_name"]) or set()
                column = next((c for c in ("captured_at", "day") if c in cols), None)
                table["data_captured_until"] = None
                if column is not None:
                    table["data_captured_until"] = conn.execute(
                        sql.SQL("select max({})::timestamptz as m from {}").format(
                            sql.Identifier(column), sql.Identifier("gold", table["table_name"])
                        )
                    ).fetchone()["m"]
        return tables

    # --- admin (the workspace's own lists, clients and erasure requests) -------------------

    @contextmanager
    def writing(self) -> Iterator[psycopg.Connection[Any]]:
        """A read-write transaction (the API role may write only its ops tables)."""
        with self._connection() as conn, conn.transaction():
            conn.execute("set transaction read write")
            yield conn

    def reading(self):
        return self._connection()

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
