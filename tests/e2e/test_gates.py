"""Gates block: a failing bronze gate stops silver, a failing silver gate stops gold, and gold
keeps the last good values (the API goes on serving them)."""

import json
from decimal import Decimal

import psycopg
from typer.testing import CliRunner

from analisa.cli import app
from orchestration.run import run_job
from tests.e2e.test_ingest_pipeline import IG, env, envelopes, media


def _ingest(tmp_path, name, items):
    path = tmp_path / name
    path.write_text("\n".join(json.dumps(e) for e in items) + "\n")
    result = CliRunner().invoke(app, ["ingest", str(path)])
    assert result.exit_code == 0, result.output


def _gold_a(url):
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select likes, engagement_rate_followers, captured_at from gold.fct_post_engagement "
            "where post_id = 'A'"
        ).fetchone()


def _accepted_counts(url):
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select layer || '.' || table_name, row_count from ops.gate_row_counts "
            "order by build_id"
        ).fetchall()


def test_failing_gates_stop_downstream_and_keep_last_good_gold(pipeline_env, tmp_path):
    _ingest(tmp_path, "good.jsonl", envelopes())
    good = run_job("build_from_bronze", collect=False)
    assert good.success, good.errors + good.failed_checks
    assert "gold/fct_post_engagement" in good.materialized
    assert "exports/gold_parquet" in good.materialized
    last_good = _gold_a(pipeline_env)
    assert last_good[:2] == (150, Decimal("18.1818"))
    # the accepted build is the baseline of the next volume checks: 8 post captures, 5 posts
    accepted = _accepted_counts(pipeline_env)
    assert ("silver.int_post_snapshots", 8) in accepted
    assert ("gold.fct_post_engagement", 5) in accepted

    # Bronze: a record without a usable status (written around the loader, as a broken tool would)
    with psycopg.connect(pipeline_env) as conn:
        conn.execute(
            "insert into bronze.raw_records (record_hash, content_hash, platform, endpoint, "
            "account_id, round_id, fetched_at, http_status, body, source) values "
            "('bad', 'bad', 'instagram', 'media', %s, 'rX', '2026-10-05T00:00:00Z', 0, "
            "'{\"data\": []}', 'manual')",
            (IG,),
        )
    blocked = run_job("build_from_bronze", collect=False)
    assert not blocked.success
    assert any(
        c.startswith("bronze/instagram_media:bronze_gate") and "http_status" in c
        for c in blocked.failed_checks
    ), blocked.failed_checks
    assert not any(m.startswith(("silver/", "gold/")) for m in blocked.materialized)
    assert _gold_a(pipeline_env) == last_good
    with psycopg.connect(pipeline_env) as conn:
        conn.execute("delete from bronze.raw_records where record_hash = 'bad'")

    # Silver: a later listing says every post has negative likes: typed fine, but impossible,
    # and not one odd post (that would pass) but the whole page: read in a broken way
    bad_page = {
        "data": [
            media("A", "2026-09-30T10:00:00+0000", 31, likes=-5),
            media("B", "2026-09-29T10:00:00+0000", 9, likes=-7),
        ],
        "paging": {},
    }
    _ingest(
        tmp_path,
        "bad.jsonl",
        [env("instagram", "media", IG, "r9", "2026-10-05T10:00:01Z", bad_page)],
    )
    blocked = run_job("build_from_bronze", collect=False)
    assert not blocked.success
    assert any(
        c.startswith("silver/int_post_snapshots:silver_gate") and "likes" in c
        for c in blocked.failed_checks
    ), blocked.failed_checks
    assert "silver/int_post_snapshots" in blocked.materialized  # silver was rebuilt ...
    assert not any(m.startswith("gold/") for m in blocked.materialized)  # ... gold was not
    assert "exports/gold_parquet" not in blocked.materialized
    assert _gold_a(pipeline_env) == last_good
    # a blocked build never becomes the baseline
    assert _accepted_counts(pipeline_env) == accepted
