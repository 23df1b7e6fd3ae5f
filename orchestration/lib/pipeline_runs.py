"""Pipeline runs as numbers Prometheus can scrape: recorded when a run ends, served on demand.

A Dagster run is a short-lived process, so nothing can scrape it: when a run ends, its status,
step durations, check results and the rows of every bronze, silver and gold table are written
to the ops tables of migration 013 (`record_run`), and `PipelineRunCollector` reads them back
on every scrape (`analisa metrics`). This module imports no Dagster: the exporter stays light.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

import psycopg
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from psycopg import sql

log = logging.getLogger(__name__)

LAYERS = ("bronze", "silver", "gold")
# Detail rows (steps, checks, row counts) of runs older than this are deleted when a run is
# recorded; the run rows themselves stay, so the run counters never go back.
DETAIL_RETENTION_DAYS = 90


@dataclass(frozen=True)
class StepReport:
    step_key: str
    status: str
    seconds: float | None


@dataclass(frozen=True)
class CheckReport:
    asset: str
    check_name: str
    kind: str
    """gate (a layer gate), dbt_test or other."""
    passed: bool
    severity: str


@dataclass
class RunReport:
    run_id: str
    job_name: str
    status: str
    """success, failure or canceled."""
    started_at: datetime | None
    finished_at: datetime
    steps: list[StepReport] = field(default_factory=list)
    checks: list[CheckReport] = field(default_factory=list)

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None:
            return None
        return max(0.0, (self.finished_at - self.started_at).total_seconds())


_TABLES = """
select n.nspname, c.relname
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where n.nspname = any(%s) and c.relkind in ('r', 'p', 'm') and not c.relispartition
order by 1, 2
"""


def layer_row_counts(conn: psycopg.Connection) -> list[tuple[str, str, int]]:
    """(layer, table, exact row count) of every table of bronze, silver and gold (views are
    left out: they show rows of tables already counted; partitions count in their parent)."""
    out = []
    for layer, table in conn.execute(_TABLES, (list(LAYERS),)).fetchall():
        count = conn.execute(
            sql.SQL("select count(*) from {}.{}").format(
                sql.Identifier(layer), sql.Identifier(table)
            )
        ).fetchone()[0]
        out.append((layer, table, int(count)))
    return out


def record_run(db_url: str, report: RunReport) -> list[tuple[str, str, int]]:
    """Write one run's numbers (again, if it was recorded already) with the row counts as they
    are now; returns the row counts written."""
    with psycopg.connect(db_url) as conn, conn.transaction():
        # one snapshot for every count: the tables as one consistent moment
        conn.execute("set transaction isolation level repeatable read")
        rows = layer_row_counts(conn)
        conn.execute(
            "insert into ops.pipeline_runs (run_id, job_name, status, started_at, finished_at, "
            "duration_seconds) values (%s, %s, %s, %s, %s, %s) on conflict (run_id) do update "
            "set job_name = excluded.job_name, status = excluded.status, "
            "started_at = excluded.started_at, finished_at = excluded.finished_at, "
            "duration_seconds = excluded.duration_seconds, recorded_at = now()",
            (
                report.run_id,
                report.job_name,
                report.status,
                report.started_at,
                report.finished_at,
                report.duration_seconds,
            ),
        )
        for table in ("pipeline_run_steps", "pipeline_run_checks", "pipeline_run_rows"):
            conn.execute(
                sql.SQL("delete from ops.{} where run_id = %s").format(sql.Identifier(table)),
                (report.run_id,),
            )
        with conn.cursor() as cur:
            cur.executemany(
                "insert into ops.pipeline_run_steps (run_id, step_key, status, duration_seconds) "
                "values (%s, %s, %s, %s)",
                [(report.run_id, s.step_key, s.status, s.seconds) for s in report.steps],
            )
            cur.executemany(
                "insert into ops.pipeline_run_checks (run_id, asset, check_name, kind, passed, "
                "severity) values (%s, %s, %s, %s, %s, %s) "
                "on conflict (run_id, asset, check_name) do update set passed = excluded.passed, "
                "severity = excluded.severity, kind = excluded.kind",
                [
                    (report.run_id, c.asset, c.check_name, c.kind, c.passed, c.severity)
                    for c in report.checks
                ],
            )
            cur.executemany(
                "insert into ops.pipeline_run_rows (run_id, layer, table_name, row_count) "
                "values (%s, %s, %s, %s)",
                [(report.run_id, layer, table, n) for layer, table, n in rows],
            )
        old = (
            "(select run_id from ops.pipeline_runs "
            "where finished_at < now() - %s * interval '1 day')"
        )
        for table in ("pipeline_run_steps", "pipeline_run_checks", "pipeline_run_rows"):
            conn.execute(
                sql.SQL("delete from ops.{} where run_id in " + old).format(sql.Identifier(table)),
                (DETAIL_RETENTION_DAYS,),
            )
    return rows


# -- reading them back on each scrape -----------------------------------------------------------
_LATEST_RUNS = """
select distinct on (job_name) job_name, run_id, status, duration_seconds,
       extract(epoch from finished_at)
from ops.pipeline_runs order by job_name, finished_at desc
"""
_RUN_COUNTS = "select job_name, status, count(*) from ops.pipeline_runs group by 1, 2"
_LATEST_STEPS = """
select distinct on (r.job_name, s.step_key) r.job_name, s.step_key, s.duration_seconds
from ops.pipeline_run_steps s join ops.pipeline_runs r using (run_id)
where s.duration_seconds is not null
order by r.job_name, s.step_key, r.finished_at desc
"""
# a gate's latest verdict on each asset, whichever run evaluated it last
_LATEST_GATES = """
select distinct on (c.check_name, c.asset) c.check_name, c.asset, c.passed,
       extract(epoch from r.finished_at)
from ops.pipeline_run_checks c join ops.pipeline_runs r using (run_id)
where c.kind = 'gate'
order by c.check_name, c.asset, r.finished_at desc
"""
_LATEST_RUN_CHECKS = """
select r.job_name, c.kind,
       case when c.passed then 'passed' when c.severity = 'WARN' then 'warned' else 'failed' end,
       count(*)
from ops.pipeline_run_checks c
join (select distinct on (job_name) job_name, run_id from ops.pipeline_runs
      order by job_name, finished_at desc) r using (run_id)
group by 1, 2, 3
"""
# every run counts every table: the rows as the latest run that counted any saw them (a table
# dropped since is gone from the metrics too)
_LATEST_ROWS = """
select layer, table_name, row_count from ops.pipeline_run_rows
where run_id = (select r.run_id from ops.pipeline_runs r
                where exists (select 1 from ops.pipeline_run_rows w where w.run_id = r.run_id)
                order by r.finished_at desc limit 1)
"""


class PipelineRunCollector(Collector):
    """Prometheus gauges read from the ops tables on every scrape (one short query each)."""

    def __init__(self, db_url: str):
        self.db_url = db_url

    def describe(self) -> Iterator:
        yield from self._families().values()

    @staticmethod
    def _families() -> dict[str, GaugeMetricFamily | CounterMetricFamily]:
        return {
            "up": GaugeMetricFamily(
                "analisa_pipeline_metrics_up",
                "1 when the run records could be read from the database, 0 when not.",
            ),
            "runs": CounterMetricFamily(
                "analisa_pipeline_runs",
                "Pipeline runs recorded, by job and status (success, failure, canceled).",
                labels=["job", "status"],
            ),
            "success": GaugeMetricFamily(
                "analisa_pipeline_last_run_success",
                "1 when the job's latest run succeeded, 0 when it failed.",
                labels=["job"],
            ),
            "duration": GaugeMetricFamily(
                "analisa_pipeline_last_run_duration_seconds",
                "Wall time of the job's latest run.",
                labels=["job"],
            ),
            "finished": GaugeMetricFamily(
                "analisa_pipeline_last_run_finished_timestamp_seconds",
                "When the job's latest run ended (Unix time).",
                labels=["job"],
            ),
            "steps": GaugeMetricFamily(
                "analisa_pipeline_step_duration_seconds",
                "Wall time of each step (dbt layer, gate, export) in the job's latest run "
                "that ran it.",
                labels=["job", "step"],
            ),
            "gates": GaugeMetricFamily(
                "analisa_pipeline_gate_passed",
                "1 when a layer gate's latest evaluation of an asset passed, 0 when it failed.",
                labels=["gate", "asset"],
            ),
            "gate_time": GaugeMetricFamily(
                "analisa_pipeline_gate_evaluated_timestamp_seconds",
                "When the run holding a gate's latest evaluation of an asset ended.",
                labels=["gate", "asset"],
            ),
            "checks": GaugeMetricFamily(
                "analisa_pipeline_last_run_checks",
                "Asset checks in the job's latest run, by kind (gate, dbt_test) and result "
                "(passed, failed, warned).",
                labels=["job", "kind", "result"],
            ),
            "rows": GaugeMetricFamily(
                "analisa_pipeline_table_rows",
                "Rows of each bronze, silver and gold table when the latest run ended.",
                labels=["layer", "table"],
            ),
        }

    def collect(self) -> Iterator:
        families = self._families()
        try:
            with psycopg.connect(self.db_url, connect_timeout=5) as conn:
                self._fill(conn, families)
        except psycopg.Error as exc:
            log.warning("pipeline run records not read: %s", exc)
            families["up"].add_metric([], 0)
            yield families["up"]
            return
        families["up"].add_metric([], 1)
        yield from families.values()

    @staticmethod
    def _fill(conn: psycopg.Connection, f: dict) -> None:
        for job, status, count in conn.execute(_RUN_COUNTS):
            f["runs"].add_metric([job, status], count)
        for job, _run, status, duration, finished in conn.execute(_LATEST_RUNS):
            f["success"].add_metric([job], 1.0 if status == "success" else 0.0)
            if duration is not None:
                f["duration"].add_metric([job], duration)
            f["finished"].add_metric([job], float(finished))
        for job, step, seconds in conn.execute(_LATEST_STEPS):
            f["steps"].add_metric([job, step], seconds)
        for gate, asset, passed, at in conn.execute(_LATEST_GATES):
            f["gates"].add_metric([gate, asset], 1.0 if passed else 0.0)
            f["gate_time"].add_metric([gate, asset], float(at))
        for job, kind, result, count in conn.execute(_LATEST_RUN_CHECKS):
            f["checks"].add_metric([job, kind, result], count)
        for layer, table, count in conn.execute(_LATEST_ROWS):
            f["rows"].add_metric([layer, table], count)
