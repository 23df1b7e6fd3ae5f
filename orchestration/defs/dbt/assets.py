"""dbt models as assets, split by layer so the silver gate can run between silver and gold:
a blocking check stops later steps, not the rest of the step it follows.

Nothing here runs at import: `layer_assets` is called when the definitions are built, which is
when the dbt manifest is read (and made, if missing)."""

from functools import cache
from pathlib import Path

import dagster as dg
from dagster_dbt import dbt_assets

from orchestration.defs.dbt.resources import analisa_dbt_project, dbt_cli
from orchestration.defs.dbt.target_cleanup import (
    clean_target_runs,
    keep_partial_parse,
    target_dir,
)
from orchestration.lib.resources import AnalisaResource
from orchestration.lib.translator import AnalisaTranslator

SILVER_SELECT = "tag:silver"
GOLD_SELECT = "tag:gold"


def build_args(full_refresh: bool = False, file_log_level: str = "info") -> list[str]:
    """The dbt command each layer runs: build = run + test, so dbt's own key tests gate too.
    dbt's unit tests check the models' logic on fixed inputs, not the data: they run with the
    test suite (tests/integration/transforms), not in every build (they cost a second each).
    `file_log_level`: what the run folder's dbt.log keeps (ANALISA_DBT_FILE_LOG_LEVEL)."""
    return [
        "build",
        "--exclude-resource-type",
        "unit_test",
        "--log-level-file",
        file_log_level,
        *(["--full-refresh"] if full_refresh else []),
    ]


class DbtBuildConfig(dg.Config):
    full_refresh: bool = False
    """Rebuild incremental models from all of bronze instead of their new rows only."""


def _layer(select: str, name: str):
    project = analisa_dbt_project()

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        select=select,
        name=name,
        dagster_dbt_translator=AnalisaTranslator(),
    )
    def _assets(
        context: dg.AssetExecutionContext, config: DbtBuildConfig, analisa: AnalisaResource
    ):
        target = target_dir(Path(project.project_dir))
        invocation = None
        try:
            with dbt_cli(project, analisa.database_url(), warm=True) as dbt:
                invocation = dbt.cli(
                    build_args(config.full_refresh, analisa.settings().dbt_file_log_level),
                    context=context,
                )
                yield from invocation.stream()
        finally:
            if invocation is not None:
                keep_partial_parse(invocation.target_path, target)
            clean_target_runs(target, keep=analisa.settings().dbt_target_keep)

    return _assets


@cache
def layer_assets() -> tuple[dg.AssetsDefinition, dg.AssetsDefinition]:
    """(silver, gold): one @dbt_assets op per layer, same translator, same command."""
    return _layer(SILVER_SELECT, "dbt_silver"), _layer(GOLD_SELECT, "dbt_gold")
