"""Dagster entry point (workspace.yaml): the thin root that gathers every domain's definitions.

Importing this module runs nothing: `defs` is a `@dg.definitions` function that Dagster calls
when it loads the code location, and only then is the dbt manifest read."""

from __future__ import annotations

import dagster as dg

from orchestration.defs.collection.assets import bronze
from orchestration.defs.collection.planner import plan_collection
from orchestration.defs.dbt.assets import layer_assets
from orchestration.defs.enrichment.assets import caption_enrichment
from orchestration.defs.exports.assets import gold_cache_version, gold_parquet
from orchestration.defs.observability.runs import record_failed_runs, record_successful_runs
from orchestration.defs.privacy.erasures import carry_out_erasures, erasure_requests
from orchestration.defs.quality.checks import (
    bronze_gate,
    gold_gate,
    malformed_responses,
    silver_gate,
)
from orchestration.defs.retention.assets import (
    RETENTION_KEY,
    bronze_retention,
    purge_bronze,
    purge_bronze_daily,
)
from orchestration.lib.resources import AnalisaResource

CHECKS = [bronze_gate, malformed_responses, silver_gate, gold_gate]
# Everything that builds; retention runs on its own schedule, never as a side effect of a build.
BUILD_ASSETS = dg.AssetSelection.all() - dg.AssetSelection.assets(RETENTION_KEY)

collect_and_build = dg.define_asset_job(
    "collect_and_build",
    selection=BUILD_ASSETS,
    description="Collect every tracked account, then build silver, gold and exports behind gates.",
)
build_from_bronze = dg.define_asset_job(
    "build_from_bronze",
    selection=BUILD_ASSETS,
    config={"ops": {"bronze": {"config": {"collect": False}}}},
    description="Rebuild everything downstream of bronze from what bronze holds (no API calls).",
)
collect_every_6_hours = dg.ScheduleDefinition(
    name="collect_every_6_hours",
    job=collect_and_build,
    cron_schedule="0 */6 * * *",
    description="Polling is the only way to stay fresh: neither platform offers metric webhooks.",
)


def build_definitions(analisa: AnalisaResource | None = None) -> dg.Definitions:
    """The definitions with their resources; tests pass an AnalisaResource with own prefixes."""
    dbt_silver, dbt_gold = layer_assets()
    return dg.Definitions(
        assets=[
            bronze,
            dbt_silver,
            caption_enrichment,
            dbt_gold,
            gold_parquet,
            gold_cache_version,
            bronze_retention,
        ],
        asset_checks=CHECKS,
        jobs=[collect_and_build, build_from_bronze, purge_bronze, carry_out_erasures],
        schedules=[collect_every_6_hours, purge_bronze_daily],
        sensors=[plan_collection, record_successful_runs, record_failed_runs, erasure_requests],
        resources={"analisa": analisa or AnalisaResource()},
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions()
