"""The daily retention purge of raw bronze (purge.py says what goes, and when).

An asset, so every purge is a materialization whose metadata says what went (rows per table,
cutoffs and why); its own job and schedule, kept out of the build jobs so that rebuilding gold
never deletes raw data as a side effect.
"""

import dagster as dg

from orchestration.defs.retention.purge import RetentionPolicy, purge
from orchestration.lib.resources import AnalisaResource

RETENTION_KEY = dg.AssetKey(["ops", "bronze_retention"])


class RetentionConfig(dg.Config):
    dry_run: bool = False
    """Count what would go, delete nothing (the purge is still recorded, as a dry run)."""


@dg.asset(
    key=RETENTION_KEY,
    group_name="retention",
    kinds={"postgres"},
    description="Deletes raw bronze ingested more than ANALISA_BRONZE_RETENTION_DAYS ago "
    "(default 90) that the last silver build accepted by its gate had already read, and "
    "rejected import lines older than ANALISA_REJECTED_RETENTION_DAYS (default 30). Each "
    "purge is recorded in ops.retention_purges.",
)
def bronze_retention(
    context: dg.AssetExecutionContext, config: RetentionConfig, analisa: AnalisaResource
) -> dg.MaterializeResult:
    settings = analisa.settings()
    report = purge(
        analisa.database_url(),
        RetentionPolicy.from_settings(settings),
        dry_run=config.dry_run,
        run_id=context.run_id,
        log=context.log.info,
    )
    return dg.MaterializeResult(metadata={**report.metadata(), "rows": report.rows})


purge_bronze = dg.define_asset_job(
    "purge_bronze",
    selection=dg.AssetSelection.assets(RETENTION_KEY),
    description="Delete raw bronze past its retention period once silver holds it.",
)

purge_bronze_daily = dg.ScheduleDefinition(
    name="purge_bronze_daily",
    job=purge_bronze,
    cron_schedule="30 3 * * *",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Retention is an obligation, not an option: on by default, at a quiet hour.",
)
