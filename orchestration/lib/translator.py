"""dbt → Dagster naming: asset keys are [schema folder, model], groups come from the folder."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings

LAYERS = ("silver", "gold")


def layer_of(props: Mapping[str, Any]) -> str | None:
    fqn = props.get("fqn") or []
    return next((part for part in fqn[1:] if part in LAYERS), None)


class AnalisaTranslator(DagsterDbtTranslator):
    def __init__(self):
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props.get("resource_type") == "source":
            return dg.AssetKey([dbt_resource_props["source_name"], dbt_resource_props["name"]])
        layer = layer_of(dbt_resource_props)
        name = dbt_resource_props["name"]
        return dg.AssetKey([layer, name]) if layer else dg.AssetKey([name])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return layer_of(dbt_resource_props) or super().get_group_name(dbt_resource_props)
