"""Pipeline runs for monitoring: each run records its status, step durations, gate verdicts and
the rows of every bronze, silver and gold table, and `analisa metrics` serves them to
Prometheus; a failing gate shows as a failed run and a 0 for that gate and table."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import psycopg
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from psycopg import sql
from typer.testing import CliRunner

from analisa.cli import app
from orchestration.lib.pipeline_runs import PipelineRunCollector
from orchestration.run import run_job
from tests.e2e.test_ingest_pipeline import IG, envelopes

Samples = dict[tuple[str, frozenset], float]


def _ingest(tmp_path, name, items):
    path = tmp_path / name
    path.write_text("\n".join(json.dumps(e) for e in items) + "\n")
    result = CliRunner().invoke(app, ["ingest", str(path)])
    assert result.exit_code == 0, result.output


def _parse(text: str) -> Samples:
    out: Samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def _key(name: str, **labels: str) -> tuple[str, frozenset]:
    return (name, frozenset(labels.items()))


def _table_counts(conn) -> dict[tuple[str, str], int]:
    """Every bronze, silver and gold table counted here, independently of the recorder."""
    tables = conn.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_schema in ('bronze', 'silver', 'gold') and table_type = 'BASE TABLE'"
    ).fetchall()
    partitions = {
        r[0]
        for r in conn.execute("select c.relname from pg_class c where c.relispartition").fetchall()
    }
    out = {}
    for schema, table in tables:
        if table in partitions:
            continue
        query = sql.SQL("select count(*) from {}.{}").format(
            sql.Identifier(schema), sql.Identifier(table)
        )
        out[(schema, table)] = conn.execute(query).fetchone()[0]
    return out


def test_runs_record_rows_per_layer_gates_and_steps_and_the_exporter_serves_them(
    pipeline_env, tmp_path
):
    items = envelopes()
    _ingest(tmp_path, "good.jsonl", items)
    good = run_job("build_from_bronze", collect=False)
    assert good.success, good.errors + good.failed_checks

    with psycopg.connect(pipeline_env) as conn:
        run = conn.execute(
            "select job_name, status, duration_seconds from ops.pipeline_runs where run_id = %s",
            (good.run_id,),
        ).fetchone()
        recorded = {
            (layer, table): n
            for layer, table, n in conn.execute(
                "select layer, table_name, row_count from ops.pipeline_run_rows where run_id = %s",
                (good.run_id,),
            )
        }
        counted = _table_counts(conn)
        steps = dict(
            conn.execute(
                "select step_key, duration_seconds from ops.pipeline_run_steps where run_id = %s",
                (good.run_id,),
            ).fetchall()
        )
        gates = conn.execute(
            "select check_name, count(*), count(*) filter (where passed) "
            "from ops.pipeline_run_checks where run_id = %s and kind = 'gate' group by 1",
            (good.run_id,),
        ).fetchall()
        dbt_tests = conn.execute(
            "select count(*), count(*) filter (where passed) from ops.pipeline_run_checks "
            "where run_id = %s and kind = 'dbt_test'",
            (good.run_id,),
        ).fetchone()
    assert run[:2] == ("build_from_bronze", "success") and run[2] > 0
    # rows per layer: every table, exactly as counted now
    assert recorded == counted
    assert {layer for layer, _ in recorded} == {"bronze", "silver", "gold"}
    # by hand: 20 envelopes, one a repeat of another, are 19 bronze records; 8 post captures
    # and 5 posts
    assert len(items) == 20
    assert recorded[("bronze", "raw_records")] == 19
    # int_post_snapshots is a view (not counted) of one table per platform
    assert ("silver", "int_post_snapshots") not in recorded
    assert (
        recorded[("silver", "int_post_snapshots__instagram")]
        + recorded[("silver", "int_post_snapshots__tiktok")]
        == 8
    )
    assert recorded[("gold", "fct_post_engagement")] == 5
    # each step's wall time as Dagster measured it for the run
    assert set(steps) == set(good.step_seconds)
    assert all(abs(steps[k] - good.step_seconds[k]) < 1e-6 for k in steps)
    assert {"dbt_silver", "dbt_gold"} <= set(steps)
    # the gates: one verdict per gated table, all passed (10 bronze views, both platforms:
    # Instagram user, media, media insights, user insights, media object, stories, story
    # insights; TikTok user info, video list, video query)
    gate_counts = {name: (n, passed) for name, n, passed in gates}
    assert gate_counts["bronze_gate"] == (10, 10)
    assert gate_counts["silver_gate"][0] == gate_counts["silver_gate"][1] > 0
    assert gate_counts["gold_gate"][0] == gate_counts["gold_gate"][1] > 0
    assert dbt_tests[0] == dbt_tests[1] > 0

    # a record without a usable status: the bronze gate fails, the run fails, silver waits
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
    with psycopg.connect(pipeline_env) as conn:
        status = conn.execute(
            "select status from ops.pipeline_runs where run_id = %s", (blocked.run_id,)
        ).fetchone()[0]
        media_gate = conn.execute(
            "select passed from ops.pipeline_run_checks where run_id = %s "
            "and asset = 'bronze/instagram_media' and check_name = 'bronze_gate'",
            (blocked.run_id,),
        ).fetchone()[0]
    assert (status, media_gate) == ("failure", False)

    registry = CollectorRegistry()
    registry.register(PipelineRunCollector(pipeline_env))
    samples = _parse(generate_latest(registry).decode())
    job = "build_from_bronze"
    assert samples[_key("analisa_pipeline_metrics_up")] == 1
    assert samples[_key("analisa_pipeline_runs_total", job=job, status="success")] == 1
    assert samples[_key("analisa_pipeline_runs_total", job=job, status="failure")] == 1
    assert samples[_key("analisa_pipeline_last_run_success", job=job)] == 0
    gate = "analisa_pipeline_gate_passed"
    assert samples[_key(gate, gate="bronze_gate", asset="bronze/instagram_media")] == 0
    assert samples[_key(gate, gate="bronze_gate", asset="bronze/tiktok_video_list")] == 1
    # gold kept its last good build, which the failed run counted again; bronze has one more
    rows = "analisa_pipeline_table_rows"
    assert samples[_key(rows, layer="gold", table="fct_post_engagement")] == 5
    assert samples[_key(rows, layer="bronze", table="raw_records")] == 20
    # dbt_silver did not run in the failed run: its time is the good run's
    step = "analisa_pipeline_step_duration_seconds"
    assert samples[_key(step, job=job, step="dbt_silver")] == steps["dbt_silver"]

    # the exporter process serves the same over HTTP
    port = _free_port()
    env = dict(os.environ, COLUMNS="200")
    code = f"from analisa.cli.main import app\napp(['metrics', '--port', '{port}'])\n"
    proc = subprocess.Popen(
        [sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        served: Samples = {}
        deadline = time.time() + 60
        while time.time() < deadline and proc.poll() is None:
            try:
                served = _parse(httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out.decode()[-2000:]
    assert served[_key(rows, layer="gold", table="fct_post_engagement")] == 5
    assert served[_key("analisa_pipeline_runs_total", job=job, status="failure")] == 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_exporter_says_when_it_cannot_read_the_records():
    registry = CollectorRegistry()
    registry.register(PipelineRunCollector("postgresql://nobody@127.0.0.1:1/none"))
    samples = _parse(generate_latest(registry).decode())
    assert samples == {_key("analisa_pipeline_metrics_up"): 0}
