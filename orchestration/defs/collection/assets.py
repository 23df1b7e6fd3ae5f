"""Bronze assets, one per platform and endpoint (the views dbt reads as sources).

Materialising them collects (config `collect`, the default): a run of collection tasks through
the queue. With `collect: false` they only report what bronze already holds, which is how
`analisa pipeline` rebuilds everything downstream from bronze alone.
"""

import dagster as dg
import psycopg

from analisa.core import catalog
from connectors.collection_run import run_collection
from expectations import bronze as bronze_gate_rules
from orchestration.lib.resources import AnalisaResource

BRONZE_KEYS: dict[tuple[str, str], dg.AssetKey] = {
    (e.platform, e.name): dg.AssetKey(["bronze", e.view])
    for e in sorted(catalog.ENDPOINTS, key=lambda e: e.view)
}


class BronzeConfig(dg.Config):
    collect: bool = True


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            key,
            group_name="bronze",
            kinds={"postgres"},
            description=f"Raw {platform} `{endpoint}` responses, append-only (view over "
            "bronze.raw_records).",
        )
        for (platform, endpoint), key in BRONZE_KEYS.items()
    ],
    can_subset=True,
    name="bronze",
)
def bronze(context: dg.AssetExecutionContext, config: BronzeConfig, analisa: AnalisaResource):
    selected = context.selected_asset_keys
    platforms = tuple(sorted({p for (p, _), k in BRONZE_KEYS.items() if k in selected}))
    settings = analisa.settings()
    url = analisa.database_url()
    summary = None
    if config.collect:
        # work waiting longer than 15 minutes (a platform's block) stays for the workers
        summary = run_collection(
            settings, url, platforms, queue_prefix=analisa.queue_prefix, horizon_seconds=900
        )
        context.log.info(
            f"collection run {summary.run_id}: {summary.tasks} tasks, "
            f"{summary.stats.done} done, {summary.stats.retried} retried, "
            f"{summary.stats.parked} parked, {summary.stats.records} new records, "
            f"{summary.malformed} malformed responses kept"
        )
        for reason in summary.stats.parked_reasons:
            context.log.warning(f"parked: {reason}")
    with psycopg.connect(url) as conn:
        counts = bronze_gate_rules.counts(conn)
    for (platform, endpoint), key in BRONZE_KEYS.items():
        if key not in selected:
            continue
        rows, malformed = counts.get((platform, endpoint), (0, 0))
        metadata: dict = {"rows": rows, "malformed_rows": malformed}
        if summary is not None:
            metadata |= {
                "collection_run": summary.run_id,
                "calls": summary.calls.get(f"{platform}/{endpoint}", 0),
            }
        yield dg.MaterializeResult(asset_key=key, metadata=metadata)
