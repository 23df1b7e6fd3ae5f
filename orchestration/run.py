"""Running the pipeline in-process (the CLI and the tests), and reading what happened."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from orchestration.definitions import build_definitions
from orchestration.lib.resources import AnalisaResource

QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


@dataclass
class PipelineOutcome:
    success: bool
    materialized: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed_checks: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    run_id: str = ""


def run_job(
    job_name: str,
    *,
    analisa: AnalisaResource | None = None,
    instance: dg.DagsterInstance | None = None,
    collect: bool | None = None,
    selection: list[dg.AssetKey] | None = None,
    quiet: bool = True,
    log_path: Path | None = None,
) -> PipelineOutcome:
    """Run a job in this process. With `log_path`, what dbt and Dagster print goes to that file
    instead of the terminal (the CLI shows its own progress and summary)."""
    defs = build_definitions(analisa)
    job = defs.resolve_job_def(job_name)
    run_config: dict = dict(QUIET) if quiet else {}
    if collect is not None:
        run_config["ops"] = {"bronze": {"config": {"collect": collect}}}
    with contextlib.ExitStack() as stack:
        if log_path is not None:
            log_path.parent.mkdir(parents=True, exist_ok=True)
            log = stack.enter_context(log_path.open("a", encoding="utf-8"))
            stack.enter_context(contextlib.redirect_stdout(log))
            stack.enter_context(contextlib.redirect_stderr(log))
            stack.enter_context(_dagster_logs_to(log))
        result = job.execute_in_process(
            run_config=run_config,
            instance=instance or dg.DagsterInstance.ephemeral(),
            raise_on_error=False,
            asset_selection=selection,
        )
    return summarize(result)


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
