"""The Dagster asset on its own: switched off it does nothing; when the enrichment fails it says
so and succeeds, so gold (downstream in the same run) still builds on the serving version; its
time budget (ANALISA_ENRICHMENT_MAX_SECONDS) stops a run with captions left for the next."""

from __future__ import annotations

import dagster as dg
import psycopg
import pytest

from analisa.core.settings import get_settings
from enrichment.model import LIBRARY, library_installed
from orchestration.defs.enrichment.assets import ENRICHMENT_KEYS, caption_enrichment
from orchestration.lib.resources import AnalisaResource


def _materialize(db_url: str, monkeypatch, switch: str, **env: str) -> dict:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("ANALISA_ENRICHMENT", switch)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
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


@pytest.mark.skipif(not library_installed(), reason=f"{LIBRARY} not installed")
def test_the_time_budget_leaves_a_backlog_to_the_next_runs(db_url, monkeypatch):
    import enrichment.pipeline

    # 300 captions: two batches of 256 and 44. The run's clock moves 10 s at each reading: the
    # first batch is always embedded, and the second would start 10 s into a 5 s budget.
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(
            "create table silver.int_posts (platform text, account_id text, post_id text,"
            " caption text, posted_at timestamptz, is_deleted boolean)"
        )
        conn.execute(
            "insert into silver.int_posts select 'instagram', 'a' || (i % 7), 'p' || i,"
            " 'Receita de bolo número ' || i, timestamptz '2026-10-01 12:00+00', false"
            " from generate_series(1, 300) as i"
        )
    readings = iter(range(0, 1000, 10))
    monkeypatch.setattr(enrichment.pipeline, "_clock", lambda: float(next(readings)))
    metadata = _materialize(db_url, monkeypatch, "on", ANALISA_ENRICHMENT_MAX_SECONDS="5")
    assert metadata["enrichment"] == "on"
    assert (metadata["embedded"], metadata["captions_done"], metadata["captions_total"]) == (
        256,
        256,
        300,
    )
    assert (metadata["complete"], metadata["stopped_by"]) == (False, "max_seconds")
