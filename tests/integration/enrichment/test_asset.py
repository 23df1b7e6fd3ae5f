"""The Dagster asset on its own: switched off it does nothing; when the enrichment fails it says
so and succeeds, so gold (downstream in the same run) still builds on the serving version."""

from __future__ import annotations

import dagster as dg
import psycopg
import pytest

from analisa.core.settings import get_settings
from enrichment.model import LIBRARY, library_installed
from orchestration.defs.enrichment.assets import ENRICHMENT_KEYS, caption_enrichment
from orchestration.lib.resources import AnalisaResource


def _materialize(db_url: str, monkeypatch, switch: str) -> dict:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("ANALISA_ENRICHMENT", switch)
    get_settings.cache_clear()
    result = dg.materialize(
        [caption_enrichment],
        resources={"analisa": AnalisaResource()},
        selection=ENRICHMENT_KEYS,
        raise_on_error=False,
    )
    assert result.success
    events = result.get_asset_materialization_events()
    assert {e.asset_key for e in events} == set(ENRICHMENT_KEYS)
    return {k: v.value for k, v in events[0].materialization.metadata.items()}


def test_off_does_nothing(db_url, monkeypatch):
    assert _materialize(db_url, monkeypatch, "off") == {"enrichment": "off"}
    with psycopg.connect(db_url) as conn:
        assert conn.execute("select count(*) from silver.enrichment_versions").fetchone() == (0,)


@pytest.mark.skipif(not library_installed(), reason=f"{LIBRARY} not installed")
def test_a_failure_is_reported_and_does_not_stop_the_run(db_url, monkeypatch):
    # no silver.int_posts: silver was never built in this database
    metadata = _materialize(db_url, monkeypatch, "on")
    assert metadata["enrichment"] == "failed"
    assert "int_posts" in metadata["error"]
