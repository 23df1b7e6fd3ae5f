"""Each pipeline run's numbers into the ops tables when it ends, for `analisa metrics`.

In-process runs (`analisa pipeline`, `analisa demo`, tests) are recorded by orchestration/run.py
right after they finish; runs the daemon launches (the schedule, the UI) by the two run status
sensors here. Both read the run back from the Dagster instance the same way.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import dagster as dg

from orchestration.defs.quality.checks import BRONZE_GATE, GOLD_GATE, MALFORMED_CHECK, SILVER_GATE
from orchestration.lib.pipeline_runs import CheckReport, RunReport, StepReport, record_run
from orchestration.lib.resources import AnalisaResource

log = logging.getLogger(__name__)

GATES = frozenset({BRONZE_GATE, MALFORMED_CHECK, SILVER_GATE, GOLD_GATE})
_STATUS = {
    dg.DagsterRunStatus.SUCCESS: "success",
    dg.DagsterRunStatus.FAILURE: "failure",
    dg.DagsterRunStatus.CANCELED: "canceled",
}


def _when(epoch: float | None) -> datetime | None:
    return datetime.fromtimestamp(epoch, tz=UTC) if epoch is not None else None


def run_report(instance: dg.DagsterInstance, run_id: str) -> RunReport:
    """What the instance knows of a finished run: status, steps, checks (no row counts)."""
    run = instance.get_run_by_id(run_id)
    if run is None:
        raise LookupError(f"no run {run_id} in this Dagster instance")
    stats = instance.get_run_stats(run_id)
    report = RunReport(
        run_id=run_id,
        job_name=run.job_name,
        status=_STATUS.get(run.status, "failure"),
        started_at=_when(stats.start_time),
        finished_at=_when(stats.end_time) or datetime.now(UTC),
    )
    for step in instance.get_run_step_stats(run_id):
        seconds = None
        if step.start_time is not None and step.end_time is not None:
            seconds = max(0.0, step.end_time - step.start_time)
        status = step.status.value.lower() if step.status is not None else "unknown"
        report.steps.append(StepReport(step.step_key, status, seconds))
    seen: dict[tuple[str, str], CheckReport] = {}
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
        ev = entry.dagster_event.event_specific_data
        asset = ev.asset_key.to_user_string()
        kind = "gate" if ev.check_name in GATES else "dbt_test"
        seen[(asset, ev.check_name)] = CheckReport(
            asset, ev.check_name, kind, bool(ev.passed), ev.severity.value
        )
    report.checks = list(seen.values())
    return report


def record_pipeline_run(instance: dg.DagsterInstance, run_id: str, db_url: str) -> RunReport:
    """Record a finished run; returns what was recorded."""
    report = run_report(instance, run_id)
    record_run(db_url, report)
    return report


def _record(context: dg.RunStatusSensorContext, analisa: AnalisaResource) -> dg.SkipReason:
    run = context.dagster_run
    try:
        report = record_pipeline_run(context.instance, run.run_id, analisa.database_url())
    except Exception as exc:  # monitoring never fails a sensor tick for good
        log.warning("run %s not recorded: %s", run.run_id, exc)
        return dg.SkipReason(f"run {run.run_id} not recorded: {exc}")
    return dg.SkipReason(f"recorded run {run.run_id} ({report.job_name}: {report.status})")


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    name="record_successful_runs",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Write each successful run's steps, gate results and table rows to the ops "
    "tables that `analisa metrics` serves to Prometheus.",
)
def record_successful_runs(context: dg.RunStatusSensorContext, analisa: AnalisaResource):
    return _record(context, analisa)


@dg.run_failure_sensor(
    name="record_failed_runs",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Write each failed run's steps, gate results and table rows to the ops tables "
    "that `analisa metrics` serves to Prometheus.",
)
def record_failed_runs(context: dg.RunFailureSensorContext, analisa: AnalisaResource):
    return _record(context, analisa)
