"""What gold feeds once it passed its gate: Parquet files for data scientists and the cache
version the API keys its Redis entries on (a bump makes every cached answer stale at once)."""

import dagster as dg

from exports.schema import GOLD_TABLES
from orchestration.defs.quality.checks import GOLD_GATED
from orchestration.lib.resources import AnalisaResource

# The gold relations exported (silver posts and snapshots go too), declared with their column
# types in exports/schema.py.
EXPORT_TABLES = tuple(table.relation for table in GOLD_TABLES)


def _current_gold_version(analisa: AnalisaResource) -> int | None:
    """The version the cache bump just set, or None without Redis (or when it is down)."""
    settings = analisa.settings()
    if not settings.redis_url:
        return None
    import redis

    from analisa.core.gold_version import read_gold_version

    client = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=5)
    try:
        return read_gold_version(client, prefix=analisa.redis_prefix)
    except redis.RedisError:
        return None
    finally:
        client.close()


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


@dg.asset(
    key=dg.AssetKey(["exports", "gold_parquet"]),
    # after the cache bump, so the manifest names the gold version it holds
    deps=[*GOLD_GATED.values(), gold_cache_version],
    group_name="exports",
    kinds={"parquet"},
    description="Gold, and silver posts and snapshots, as typed Parquet partitioned by platform "
    "and capture date, one version per build behind manifest.json, under ANALISA_EXPORT_ROOT "
    "(a folder or fsspec URL; default ANALISA_EXPORT_DIR, then .analisa/exports).",
)
def gold_parquet(analisa: AnalisaResource) -> dg.MaterializeResult:
    from exports.parquet import export_gold

    settings = analisa.settings()
    root = settings.export_location
    manifest = export_gold(
        analisa.database_url(),
        root,
        keep=settings.export_keep_versions,
        gold_version=_current_gold_version(analisa),
    )
    return dg.MaterializeResult(
        metadata={
            "root": root,
            "build_id": manifest["build_id"],
            "gold_version": str(manifest["gold_version"] or "unknown (no Redis)"),
            **{entry["relation"]: entry["rows"] for entry in manifest["tables"].values()},
        }
    )
