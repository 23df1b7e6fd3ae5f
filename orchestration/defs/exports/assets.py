"""What gold feeds once it passed its gate: Parquet files for data scientists and the cache
version the API keys its Redis entries on (a bump makes every cached answer stale at once)."""

import os
from pathlib import Path

import dagster as dg
import psycopg

from orchestration.defs.quality.checks import GOLD_GATED
from orchestration.lib.resources import AnalisaResource

EXPORT_TABLES = (
    "gold.dim_influencers",
    "gold.fct_post_engagement",
    "gold.audience_segments",
    "gold.fct_influencer_daily",
    "gold.post_interests",
    "gold.influencer_interests",
    "gold.brand_influencer_fit",
    "gold.influencer_quality",
)


def export_table(conn: psycopg.Connection, table: str, target: Path) -> int:
    """Write one table to Parquet atomically (write aside, then rename)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    cur = conn.execute(f"select * from {table}")  # table names are constants, not input
    names = [d.name for d in cur.description]
    rows = cur.fetchall()
    columns = {name: [row[i] for row in rows] for i, name in enumerate(names)}
    arrow = pa.table(columns) if rows else pa.table({n: pa.array([], pa.null()) for n in names})
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".parquet.tmp")
    pq.write_table(arrow, tmp)
    os.replace(tmp, target)
    return len(rows)


@dg.asset(
    key=dg.AssetKey(["exports", "gold_parquet"]),
    deps=list(GOLD_GATED.values()),
    group_name="exports",
    kinds={"parquet"},
    description="Gold tables as Parquet files under ANALISA_EXPORT_DIR (default .analisa/exports).",
)
def gold_parquet(analisa: AnalisaResource) -> dg.MaterializeResult:
    folder = analisa.settings().export_path / "gold"
    counts = {}
    with psycopg.connect(analisa.database_url()) as conn:
        for table in EXPORT_TABLES:
            counts[table] = export_table(conn, table, folder / f"{table.split('.')[1]}.parquet")
    return dg.MaterializeResult(
        metadata={"folder": str(folder), **{t: n for t, n in counts.items()}}
    )


@dg.asset(
    key=dg.AssetKey(["serving", "gold_cache_version"]),
    deps=list(GOLD_GATED.values()),
    group_name="serving",
    kinds={"redis"},
    description="Bumps the gold version in Redis so the API stops serving answers cached "
    "from the previous gold. Without Redis there is no cache to invalidate.",
)
def gold_cache_version(analisa: AnalisaResource) -> dg.MaterializeResult:
    settings = analisa.settings()
    if not settings.redis_url:
        return dg.MaterializeResult(metadata={"redis": "not configured"})
    import redis

    from analisa.core.gold_version import bump_gold_version

    client = redis.Redis.from_url(settings.redis_url)
    try:
        version = bump_gold_version(client, prefix=analisa.redis_prefix)
    finally:
        client.close()
    return dg.MaterializeResult(metadata={"gold_version": version})
