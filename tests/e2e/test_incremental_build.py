"""An incremental build after new bronze gives the same silver and gold as a full refresh of the
same bronze: the incremental staging models only save work, never change an answer."""

import json

import psycopg
from typer.testing import CliRunner

from analisa.cli import app
from tests.e2e.test_ingest_pipeline import envelopes as hand_made
from tests.e2e.test_real_world_responses import envelopes as recorded

STAGING = (
    "silver.stg_instagram__media",
    "silver.stg_instagram__media_insights",
    "silver.stg_tiktok__videos",
)
TABLES = {
    "silver.stg_instagram__media": "post_id, captured_at",
    "silver.stg_instagram__media_insights": "post_id, captured_at",
    "silver.stg_tiktok__videos": "post_id, captured_at",
    "gold.fct_post_engagement": "platform, post_id",
    "gold.dim_influencers": "platform, account_id",
    "gold.audience_segments": "platform, account_id, dimension, segment",
}


def _snapshot(url: str) -> dict[str, list[tuple]]:
    with psycopg.connect(url) as conn:
        out = {}
        for table, order in TABLES.items():
            columns = [
                r[0]
                for r in conn.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema || '.' || table_name = %s and column_name <> 'ingested_at' "
                    "order by ordinal_position",
                    (table,),
                )
            ]
            out[table] = conn.execute(
                f"select {', '.join(columns)} from {table} order by {order}"
            ).fetchall()
        return out


def _ingest(runner: CliRunner, path, items) -> None:
    path.write_text("\n".join(json.dumps(e) for e in items) + "\n")
    result = runner.invoke(app, ["ingest", str(path)])
    assert result.exit_code == 0, result.output


def test_incremental_build_equals_full_refresh(pipeline_env, tmp_path):
    runner = CliRunner()
    first, later = hand_made(), recorded()
    # the first build sees half of the hand-made answers ...
    _ingest(runner, tmp_path / "a.jsonl", first[: len(first) // 2])
    assert runner.invoke(app, ["pipeline"]).exit_code == 0
    # that was three hours ago: beyond the incremental models' one-hour lookback
    with psycopg.connect(pipeline_env) as conn:
        conn.execute("update bronze.raw_records set ingested_at = ingested_at - interval '3 hours'")
        old = {}
        for table in STAGING:
            conn.execute(f"update {table} set ingested_at = ingested_at - interval '3 hours'")
            old[table] = conn.execute(f"select count(*) from {table}").fetchone()[0]
    # ... the next one the rest of them and the recorded answers: an incremental build
    _ingest(runner, tmp_path / "b.jsonl", first[len(first) // 2 :] + later)
    result = runner.invoke(app, ["pipeline"])
    assert result.exit_code == 0, result.output
    incremental = _snapshot(pipeline_env)
    with psycopg.connect(pipeline_env) as conn:
        for table in STAGING:
            # the old rows were not read again: they keep their shifted watermark
            kept = conn.execute(
                f"select count(*) from {table} where ingested_at < now() - interval '2 hours'"
            ).fetchone()[0]
            assert kept == old[table], table
    result = runner.invoke(app, ["pipeline", "--full-refresh"])
    assert result.exit_code == 0, result.output
    full = _snapshot(pipeline_env)
    assert {t: len(rows) for t, rows in full.items()} == {
        t: len(rows) for t, rows in incremental.items()
    }
    assert all(full[t] for t in TABLES)
    for table in TABLES:
        differing = [(a, b) for a, b in zip(incremental[table], full[table], strict=True) if a != b]
        assert differing == [], table
