"""The collection planner: a sensor that schedules due accounts for the workers.

It starts no Dagster run: it writes outbox rows (never-collected first, then the stalest,
then routine; never a second task for an account with pending work) and the `analisa worker`
processes publish and collect them. It also sweeps for lost work: published tasks whose
message never reached a worker (connectors/sweep.py) go back to the outbox to be published
again. Evaluated every minute.
"""

from __future__ import annotations

import logging
import time

import dagster as dg

from connectors.planner import plan
from connectors.sweep import ready_messages, sweep
from connectors.tasks import new_run_id
from orchestration.lib.resources import AnalisaResource

log = logging.getLogger(__name__)


@dg.sensor(
    name="plan_collection",
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Schedule due accounts for the collection workers (priorities: never "
    "collected, stalest, routine; one pending task per account at most).",
)
def plan_collection(context: dg.SensorEvaluationContext, analisa: AnalisaResource):
    settings = analisa.settings()
    url = analisa.database_url()
    planned = plan(
        url,
        new_run_id(),
        time.time(),
        interval_seconds=settings.collection_interval_seconds,
    )
    counts: dict[str, int] = {}
    for p in planned:
        counts[p.why] = counts.get(p.why, 0) + 1
    summary = ", ".join(f"{n} {why}" for why, n in sorted(counts.items())) or "nothing due"
    swept = ""
    if settings.amqp_url:  # without a broker no message can be lost: nothing to sweep
        try:
            result = sweep(
                url,
                older_than_seconds=settings.collection_sweep_after_seconds,
                queued=lambda: ready_messages(settings.amqp_url, analisa.queue_prefix),
            )
        except Exception as exc:  # the broker is down: planning went on, sweep next time
            log.warning("no sweep for lost work: %s", exc)
            context.log.warning(f"no sweep for lost work: {exc}")
        else:
            if result.swept:
                swept = f"; {len(result.swept)} lost task(s) swept back to the outbox"
    return dg.SkipReason(f"scheduled for the workers: {summary}{swept}")
