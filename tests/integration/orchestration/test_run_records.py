"""Runs the daemon launches are recorded by the run status sensors, as in-process runs are by
run_job: a failed blocking gate gives a failed run with that gate's verdict 0, a good run its
steps and the rows of each table (here a fresh database: bronze tables, all empty)."""

from __future__ import annotations

import dagster as dg
import psycopg
import pytest

from orchestration.defs.observability.runs import record_failed_runs, record_successful_runs
from orchestration.lib.resources import AnalisaResource


def _job(passes: bool):
    @dg.asset(name="tiny_table")
    def tiny_table() -> int:
        return 1

    @dg.asset_check(asset=tiny_table, name="gold_gate", blocking=True)
    def tiny_gate() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=passes)

    @dg.asset(deps=[tiny_table], name="tiny_after")
    def tiny_after() -> int:
        return 2

    defs = dg.Definitions(
        assets=[tiny_table, tiny_after],
        asset_checks=[tiny_gate],
        jobs=[dg.define_asset_job("tiny", selection=dg.AssetSelection.all())],
    )
    return defs.resolve_job_def("tiny")


def _run_event(instance: dg.DagsterInstance, run_id: str, kind: dg.DagsterEventType):
    (entry,) = instance.all_logs(run_id, of_type=kind)
    return entry.dagster_event


@pytest.fixture
def analisa(db_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", db_url)
    return AnalisaResource()


def _recorded(db_url: str, run_id: str):
    with psycopg.connect(db_url) as conn:
        run = conn.execute(
            "select job_name, status, duration_seconds >= 0 from ops.pipeline_runs "
            "where run_id = %s",
            (run_id,),
        ).fetchone()
        checks = conn.execute(
            "select asset, check_name, kind, passed, severity from ops.pipeline_run_checks "
            "where run_id = %s",
            (run_id,),
        ).fetchall()
        steps = dict(
            conn.execute(
                "select step_key, status from ops.pipeline_run_steps where run_id = %s",
                (run_id,),
            ).fetchall()
        )
        rows = conn.execute(
            "select layer, table_name, row_count from ops.pipeline_run_rows where run_id = %s "
            "and layer = 'bronze' and table_name = 'raw_records'",
            (run_id,),
        ).fetchall()
    return run, checks, steps, rows


def test_a_failed_gate_is_recorded_by_the_failure_sensor(db_url, analisa):
    instance = dg.DagsterInstance.ephemeral()
    result = _job(passes=False).execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    failure = _run_event(instance, result.run_id, dg.DagsterEventType.RUN_FAILURE)
    context = dg.build_run_status_sensor_context(
        sensor_name="record_failed_runs",
        dagster_event=failure,
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        resources={"analisa": analisa},
    ).for_run_failure()
    answer = record_failed_runs(context)
    assert "recorded run" in str(answer.skip_message)
    run, checks, steps, rows = _recorded(db_url, result.run_id)
    assert run == ("tiny", "failure", True)
    assert checks == [("tiny_table", "gold_gate", "gate", False, "ERROR")]
    # the gate stopped what follows it: the step after it never ran
    assert "tiny_after" not in steps and steps
    assert rows == [("bronze", "raw_records", 0)]


def test_a_good_run_is_recorded_by_the_success_sensor_once_however_often_it_fires(db_url, analisa):
    instance = dg.DagsterInstance.ephemeral()
    result = _job(passes=True).execute_in_process(instance=instance)
    success = _run_event(instance, result.run_id, dg.DagsterEventType.RUN_SUCCESS)
    for _ in range(2):  # a sensor tick repeated after a daemon restart
        context = dg.build_run_status_sensor_context(
            sensor_name="record_successful_runs",
            dagster_event=success,
            dagster_instance=instance,
            dagster_run=result.dagster_run,
            resources={"analisa": analisa},
        )
        record_successful_runs(context)
    run, checks, steps, rows = _recorded(db_url, result.run_id)
    assert run == ("tiny", "success", True)
    assert checks == [("tiny_table", "gold_gate", "gate", True, "ERROR")]
    assert set(steps.values()) == {"success"} and len(steps) >= 2
    assert rows == [("bronze", "raw_records", 0)]
    with psycopg.connect(db_url) as conn:
        assert conn.execute("select count(*) from ops.pipeline_runs").fetchone()[0] == 1
