"""The catalog is the one list: the dbt sources, the dbt platform variable, the connector
registry and the Dagster bronze assets all hold exactly its entries."""

from __future__ import annotations

from pathlib import Path

import yaml

from analisa.core import catalog
from connectors.registry import CONNECTORS
from orchestration.defs.collection.assets import BRONZE_KEYS

DBT = Path(__file__).resolve().parents[3] / "dbt_project"


def test_dbt_bronze_sources_are_the_catalog_endpoints():
    sources = yaml.safe_load((DBT / "models/silver/_bronze__sources.yml").read_text())["sources"]
    (bronze,) = [s for s in sources if s["name"] == "bronze"]
    tables = {t["name"]: t for t in bronze["tables"]}
    assert sorted(tables) == sorted(e.view for e in catalog.ENDPOINTS)
    for table in tables.values():
        assert table["description"].strip()
        assert "fetched_at" in {c["name"] for c in table["columns"]}


def test_dbt_platform_variable_and_registry_are_the_catalog_platforms():
    project = yaml.safe_load((DBT / "dbt_project.yml").read_text())
    assert tuple(project["vars"]["platforms"]) == catalog.PLATFORMS == ("instagram", "tiktok")
    assert tuple(CONNECTORS) == catalog.PLATFORMS


def test_bronze_assets_are_the_catalog_endpoints():
    assert {k.to_user_string() for k in BRONZE_KEYS.values()} == {
        f"bronze/{e.view}" for e in catalog.ENDPOINTS
    }


def test_lookups_name_what_exists():
    assert catalog.endpoint("instagram", "media").is_listing
    assert catalog.endpoint("tiktok", "video_query").is_per_object
    assert not catalog.endpoint("tiktok", "video_query").object_id_required
    assert catalog.endpoint("instagram", "media_insights").object_id_required
    assert [e.name for e in catalog.endpoints("tiktok")] == [
        "user_info",
        "video_list",
        "video_query",
    ]
    try:
        catalog.endpoint("tiktok", "media")
    except KeyError as exc:
        assert exc.args[0] == (
            "unknown tiktok endpoint 'media' (expected one of user_info, video_list, video_query)"
        )
    else:  # pragma: no cover
        raise AssertionError("no KeyError")
    assert catalog.AUDIENCE_DIMENSIONS == ("age", "gender", "age_gender", "country", "city")
