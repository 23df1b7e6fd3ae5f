"""dbt models as assets, split by layer so the silver gate can run between silver and gold:
a blocking check stops later steps, not the rest of the step it follows."""

import os

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.defs.dbt.resources import analisa_dbt_project
from orchestration.lib.resources import AnalisaResource
from orchestration.lib.translator import AnalisaTranslator

SILVER_SELECT = "tag:silver"
GOLD_SELECT = "tag:gold"


def build_args(full_refresh: bool = False) -> list[str]:
    """The dbt command each layer runs: build = run + test, so dbt's own key tests gate too."""
    return ["build", *(["--full-refresh"] if full_refresh else [])]


def _run_dbt(context: dg.AssetExecutionContext, dbt: DbtCliResource, analisa: AnalisaResource):
    # profiles.yml reads the connection from these; the subprocess inherits os.environ
    os.environ.update(analisa.dbt_env())
    yield from dbt.cli(build_args(), context=context).stream()


_project = analisa_dbt_project()


def _layer_assets(select: str, name: str):
    """One @dbt_assets op per layer (same translator, same command)."""

    @dbt_assets(
        manifest=_project.manifest_path,
        project=_project,
        select=select,
        name=name,
        dagster_dbt_translator=AnalisaTranslator(),
    )
    def _assets(context: dg.AssetExecutionContext, dbt: DbtCliResource, analisa: AnalisaResource):
        yield from _run_dbt(context, dbt, analisa)

    return _assets


dbt_silver = _layer_assets(SILVER_SELECT, "dbt_silver")
dbt_gold = _layer_assets(GOLD_SELECT, "dbt_gold")
