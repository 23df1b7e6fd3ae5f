"""What monitoring costs: the workers' metrics per platform call, a scrape of a busy worker, a
pipeline run's record (exact row counts of every layer) as bronze grows, and a scrape of the
pipeline exporter over months of recorded runs.

1. Per call: the metric updates one platform call makes (call counter, quota report), in a
   loop of N calls with bounded labels, beside the same loop doing nothing; microseconds each.
2. A worker scrape: `generate_latest` of the worker registry with every platform, endpoint and
   outcome label set filled.
3. Recording a run: creates its own database on DATABASE_URL (default: local PostgreSQL),
   fills bronze.raw_records with synthetic rows (server-side generate_series) to a quarter of
   N and to N, and times `record_run` (a run of 12 steps and 220 checks, every table counted).
4. Exporter scrape: R runs already recorded (each with its steps, checks and row counts), the
   time `PipelineRunCollector` takes to answer one scrape.
Drops the database. Last line of output: the JSON result (also written to
benchmarks/results/monitoring.json).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from prometheus_client import CollectorRegistry, generate_latest

from analisa.core.catalog import ENDPOINTS
from analisa.core.db import drop_database, migrate
from benchmarks.common import create_database, server_url
from connectors import metrics
from connectors.bronze_writer import ensure_partitions
from orchestration.lib.pipeline_runs import (
    CheckReport,
    PipelineRunCollector,
    RunReport,
    StepReport,
    record_run,
)

OUTCOMES = (None, "throttled", "server", "malformed", "token_invalid", "network")
STEPS = 12
CHECKS = 220


def per_call(calls: int) -> dict:
    """Microseconds the metric updates add to one platform call."""
    endpoints = [(e.platform, e.name) for e in ENDPOINTS]
    started = time.perf_counter()
    for i in range(calls):
        platform, endpoint = endpoints[i % len(endpoints)]
        _ = (platform, endpoint, OUTCOMES[i % 50 == 0])
    bare = time.perf_counter() - started
    started = time.perf_counter()
    for i in range(calls):
        platform, endpoint = endpoints[i % len(endpoints)]
        metrics.count_call(platform, endpoint, OUTCOMES[i % 50 == 0])
        metrics.QUOTA.report(f"{platform}:account:{i % 500}", i % 100, str(i % 500))
    instrumented = time.perf_counter() - started
    return {
        "calls": calls,
        "microseconds_per_call": round((instrumented - bare) / calls * 1e6, 3),
    }


def worker_scrape(repeats: int) -> dict:
    for platform, endpoint in ((e.platform, e.name) for e in ENDPOINTS):
        for outcome in OUTCOMES:
            metrics.count_call(platform, endpoint, outcome)
    for _ in range(100):
        metrics.TASK_LATENCY.observe(3.0)
        metrics.TASK_HANDLING.observe(1.0)
    started = time.perf_counter()
    for _ in range(repeats):
        body = generate_latest(metrics.REGISTRY)
    seconds = (time.perf_counter() - started) / repeats
    return {"milliseconds": round(seconds * 1000, 3), "bytes": len(body)}


def _fill_bronze(url: str, upto: int, have: int) -> None:
    """Synthetic bronze rows `have`..`upto` (spread over three months, so three partitions)."""
    with psycopg.connect(url) as conn:
        now = datetime.now(UTC)
        ensure_partitions(conn, [now - timedelta(days=d) for d in range(0, 81, 10)])
        conn.execute(
            "insert into bronze.raw_records (record_hash, content_hash, platform, endpoint, "
            "account_id, round_id, fetched_at, http_status, body, source) "
            "select 'h' || g, 'c' || g, 'instagram', 'media', 'a' || (g %% 500), 'r' || (g / 13), "
            "now() - (g %% 80) * interval '1 day', 200, "
            "jsonb_build_object('data', jsonb_build_array(jsonb_build_object('id', g))), "
            "'benchmark' from generate_series(%s, %s) g",
            (have + 1, upto),
        )


def _report(run_id: str, finished: datetime) -> RunReport:
    return RunReport(
        run_id=run_id,
        job_name="build_from_bronze",
        status="success",
        started_at=finished - timedelta(minutes=3),
        finished_at=finished,
        steps=[StepReport(f"step_{i}", "success", 1.5 + i) for i in range(STEPS)],
        checks=[
            CheckReport(
                f"gold/table_{i % 20}",
                "gold_gate" if i < 20 else f"dbt_test_{i}",
                "gate" if i < 20 else "dbt_test",
                i % 97 != 0,
                "ERROR",
            )
            for i in range(CHECKS)
        ],
    )


def recording(url: str, rows: int) -> list[dict]:
    out = []
    have = 0
    for size in (rows // 4, rows):
        _fill_bronze(url, size, have)
        have = size
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("vacuum analyze bronze.raw_records")
        started = time.perf_counter()
        counted = record_run(url, _report(uuid.uuid4().hex, datetime.now(UTC)))
        seconds = time.perf_counter() - started
        bronze_rows = sum(
            n for layer, table, n in counted if (layer, table) == ("bronze", "raw_records")
        )
        assert bronze_rows == size, (bronze_rows, size)
        out.append({"bronze_rows": size, "tables": len(counted), "seconds": round(seconds, 3)})
    return out


def exporter_scrape(url: str, runs: int, repeats: int) -> dict:
    """`runs` recorded runs (one every six hours), then the time of one scrape."""
    now = datetime.now(UTC)
    with psycopg.connect(url) as conn, conn.transaction():
        conn.execute(
            "insert into ops.pipeline_runs (run_id, job_name, status, started_at, finished_at, "
            "duration_seconds) select 'run' || g, 'build_from_bronze', "
            "case when g %% 10 = 0 then 'failure' else 'success' end, "
            "%s - g * interval '6 hours' - interval '3 minutes', %s - g * interval '6 hours', 180 "
            "from generate_series(1, %s) g",
            (now, now, runs),
        )
        conn.execute(
            "insert into ops.pipeline_run_steps select 'run' || g, 'step_' || s, 'success', s "
            "from generate_series(1, %s) g, generate_series(1, %s) s",
            (runs, STEPS),
        )
        conn.execute(
            "insert into ops.pipeline_run_checks select 'run' || g, 'gold/table_' || (c %% 20), "
            "case when c < 20 then 'gold_gate' else 'dbt_test_' || c end, "
            "case when c < 20 then 'gate' else 'dbt_test' end, (g + c) %% 97 <> 0, 'ERROR' "
            "from generate_series(1, %s) g, generate_series(0, %s) c",
            (runs, CHECKS - 1),
        )
        conn.execute(
            "insert into ops.pipeline_run_rows select 'run' || g, "
            "(array['bronze', 'silver', 'gold'])[1 + t %% 3], 'table_' || t, g * 10 + t "
            "from generate_series(1, %s) g, generate_series(1, 60) t",
            (runs,),
        )
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("vacuum analyze")
    registry = CollectorRegistry()
    registry.register(PipelineRunCollector(url))
    generate_latest(registry)  # warm
    started = time.perf_counter()
    for _ in range(repeats):
        body = generate_latest(registry).decode()
    seconds = (time.perf_counter() - started) / repeats
    assert "analisa_pipeline_metrics_up 1.0" in body
    return {
        "runs": runs + 2,
        "check_rows": (runs + 2) * CHECKS,
        "milliseconds": round(seconds * 1000, 1),
        "series": sum(1 for line in body.splitlines() if line and not line.startswith("#")),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="reduced sizes, under two minutes")
    parser.add_argument("--bronze-rows", type=int, default=2_000_000)
    parser.add_argument(
        "--runs", type=int, default=360, help="recorded runs (90 days of detail at 4 a day)"
    )
    args = parser.parse_args()
    rows = 200_000 if args.quick else args.bronze_rows
    runs = 120 if args.quick else args.runs
    calls = 200_000 if args.quick else 1_000_000

    server = server_url()
    name, url = create_database(server, "bench_monitoring")
    try:
        migrate(url)
        result = {
            "benchmark": "monitoring",
            "quick": args.quick,
            "per_call": per_call(calls),
            "worker_scrape": worker_scrape(50),
            "record_run": recording(url, rows),
            "exporter_scrape": exporter_scrape(url, runs, 5),
        }
    finally:
        drop_database(server, name)
    out = Path(__file__).resolve().parent / "results" / "monitoring.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
