"""Erasure requests made through the API (POST /v1/admin/erasures) carried out by Dagster.

The API's role may only record a request; a sensor sees pending ones and launches the
`carry_out_erasures` job, whose op claims each request (SKIP LOCKED, so a concurrent
`analisa erase --pending` never erases the same one twice) and erases with the pipeline's
privileges. A job of one op, not an asset: an erasure is an action on every layer, not a
table that a build selection could pick up.
"""

import dagster as dg
import psycopg

from orchestration.lib.resources import AnalisaResource

SENSOR_INTERVAL_SECONDS = 60
ACTOR = "dagster:carry_out_erasures"
_IN_FLIGHT = [
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


def pending_requests(db_url: str) -> int:
    """Requests not finished: pending, or left running by a run that died (claimed again)."""
    with psycopg.connect(db_url) as conn:
        return conn.execute(
            "select count(*) from ops.erasure_requests "
            "where status in ('pending', 'running') and account_id is not null"
        ).fetchone()[0]


@dg.op(description="Erase the account of every pending API erasure request.")
def erase_requested_accounts(context: dg.OpExecutionContext, analisa: AnalisaResource) -> dict:
    from dataclasses import replace

    from privacy.erase import Services
    from privacy.requests import run_pending

    settings = analisa.settings()
    services = replace(
        Services.from_settings(settings),
        redis_prefix=analisa.redis_prefix,
        queue_prefix=analisa.queue_prefix,
    )
    done = run_pending(settings, analisa.database_url(), actor=ACTOR, services=services)
    outcome = {"done": 0, "failed": 0}
    for item in done:
        outcome[item.status] = outcome.get(item.status, 0) + 1
        context.log.info(f"erasure request {item.request_id}: {item.status}")
    context.add_output_metadata({"requests": len(done), **outcome})
    if outcome["failed"]:
        # the request keeps its failed status and reason; the run says so too
        raise dg.Failure(f"{outcome['failed']} erasure request(s) failed; see their status")
    return outcome


@dg.job(description="Carry out the erasure requests recorded through the API.")
def carry_out_erasures() -> None:
    erase_requested_accounts()


@dg.sensor(
    job=carry_out_erasures,
    minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Launches carry_out_erasures when API erasure requests are pending and no "
    "such run is under way: an erasure is owed within days, not at the next build.",
)
def erasure_requests(context: dg.SensorEvaluationContext, analisa: AnalisaResource):
    waiting = pending_requests(analisa.database_url())
    if not waiting:
        return dg.SkipReason("no pending erasure request")
    running = context.instance.get_run_records(
        dg.RunsFilter(job_name=carry_out_erasures.name, statuses=_IN_FLIGHT), limit=1
    )
    if running:
        return dg.SkipReason(f"{waiting} pending; a carry_out_erasures run is under way")
    return dg.RunRequest(tags={"analisa/erasure_requests": str(waiting)})
