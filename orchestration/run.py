"""Running the pipeline in-process (the CLI and the tests), and reading what happened."""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from expectations.judge import preload as preload_gates
from orchestration.definitions import build_definitions
from orchestration.defs.dbt.resources import prestart_dbt
from orchestration.defs.observability.runs import record_pipeline_run
from orchestration.lib.resources import AnalisaResource

_log = logging.getLogger(__name__)

QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
GATE_STEPS = frozenset({"bronze_gate", "malformed_responses", "silver_gate", "gold_gate"})
DBT_STEPS = ("dbt_silver", "dbt_gold")


@dataclass
class PipelineOutcome:
    success: bool
    materialized: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed_checks: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    run_id: str = ""
    step_seconds: dict[str, float] = field(default_factory=dict)
    """Wall time of each step that finished, by step key."""
    record_seconds: float = 0.0
    """Time spent after the run writing its numbers for monitoring (a deployment's sensor does
    it once the run has ended)."""

    @property
    def check_seconds(self) -> float:
        """Time spent in the gates' steps."""
        return sum(t for key, t in self.step_seconds.items() if key in GATE_STEPS)


def run_job(
    job_name: str,
    *,
    analisa: AnalisaResource | None = None,
    instance: dg.DagsterInstance | None = None,
    collect: bool | None = None,
    selection: list[dg.AssetKey] | None = None,
    full_refresh: bool = False,
    quiet: bool = True,
    log_path: Path | None = None,
) -> PipelineOutcome:
    """Run a job in this process. With `log_path`, what dbt and Dagster print goes to that file
    instead of the terminal (the CLI shows its own progress and summary)."""
    defs = build_definitions(analisa)
    job = defs.resolve_job_def(job_name)
    if _runs_dbt(job, selection):
        prestart_dbt()  # dbt is imported while the steps before the first dbt step run
    if _runs_gates(job):
        preload_gates()  # and GX while the steps before the first gate run
    run_config: dict = dict(QUIET) if quiet else {}
    ops: dict = {}
    if collect is not None:
        ops["bronze"] = {"config": {"collect": collect}}
    if full_refresh:
        ops |= {step: {"config": {"full_refresh": True}} for step in DBT_STEPS}
    if ops:
        run_config["ops"] = ops
    with contextlib.ExitStack() as stack:
        if log_path is not None:
            log_path.parent.mkdir(parents=True, exist_ok=True)
            log = stack.enter_context(log_path.open("a", encoding="utf-8"))
            stack.enter_context(contextlib.redirect_stdout(log))
            stack.enter_context(contextlib.redirect_stderr(log))
            stack.enter_context(_dagster_logs_to(log))
        instance = instance or dg.DagsterInstance.ephemeral()
        result = job.execute_in_process(
            run_config=run_config,
            instance=instance,
            raise_on_error=False,
            asset_selection=selection,
        )
    outcome = summarize(result)
    for stats in instance.get_run_step_stats(result.run_id):
        if stats.start_time is not None and stats.end_time is not None:
            outcome.step_seconds[stats.step_key] = stats.end_time - stats.start_time
    started = time.perf_counter()
    try:  # for `analisa metrics`: the daemon's sensors never see an in-process run
        record_pipeline_run(instance, result.run_id, (analisa or AnalisaResource()).database_url())
    except Exception as exc:  # monitoring must not fail a run that succeeded
        _log.warning("run %s not recorded for monitoring: %s", result.run_id, exc)
    outcome.record_seconds = time.perf_counter() - started
    return outcome


def _runs_gates(job: dg.JobDefinition) -> bool:
    """Whether running `job` may run a gate (a blocking check judged by GX)."""
    return any(step in job.graph.node_dict for step in GATE_STEPS)


def _runs_dbt(job: dg.JobDefinition, selection: list[dg.AssetKey] | None) -> bool:
    """Whether running `job` (with `selection`) may run a dbt step."""
    if not any(step in job.graph.node_dict for step in DBT_STEPS):
        return False
    return selection is None or any(key.path[0] in ("silver", "gold") for key in selection)


@contextlib.contextmanager
def _dagster_logs_to(stream):
    """Dagster's own logger holds a handler on the terminal: send its records to `stream`."""
    logger = logging.getLogger("dagster")
    saved = logger.handlers[:], logger.propagate
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.handlers[:] = [handler]
    logger.propagate = False
    try:
        yield
    finally:
        logger.handlers[:], logger.propagate = saved


def summarize(result: dg.ExecuteInProcessResult) -> PipelineOutcome:
    out = PipelineOutcome(success=result.success, run_id=result.run_id)
    for event in result.all_events:
        if event.event_type_value == "ASSET_MATERIALIZATION":
            out.materialized.append(event.asset_key.to_user_string())
        elif event.event_type_value == "ASSET_CHECK_EVALUATION":
            ev = event.event_specific_data
            name = f"{ev.asset_key.to_user_string()}:{ev.check_name}"
            if not ev.passed:
                if ev.severity == dg.AssetCheckSeverity.WARN:
                    out.warnings.append(name + (f" — {ev.description}" if ev.description else ""))
                else:
                    out.failed_checks.append(
                        name + (f" — {ev.description}" if ev.description else "")
                    )
        elif event.event_type_value == "STEP_FAILURE":
            err = event.event_specific_data.error
            out.errors.append(f"{event.step_key}: {err.message.strip() if err else 'failed'}")
        elif event.event_type_value == "STEP_SKIPPED":
            out.skipped.append(event.step_key)
    return out
