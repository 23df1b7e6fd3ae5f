"""The collection planner: a sensor that schedules due accounts for the workers.

It starts no Dagster run: it writes outbox rows (never-collected first, then the stalest,
then routine; never a second task for an account with pending work) and the `analisa worker`
processes publish and collect them. Evaluated every minute.
"""

from __future__ import annotations

import time

import dagster as dg

from connectors.planner import plan
from connectors.tasks import new_run_id
from orchestration.lib.resources import AnalisaResource


@dg.sensor(
    name="plan_collection",
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Schedule due accounts for the collection workers (priorities: never "
    "collected, stalest, routine; one pending task per account at most).",
)
def plan_collection(context: dg.SensorEvaluationContext, analisa: AnalisaResource):
    settings = analisa.settings()
    planned = plan(
        analisa.database_url(),
        new_run_id(),
        time.time(),
        interval_seconds=settings.collection_interval_seconds,
    )
    counts: dict[str, int] = {}
    for p in planned:
        counts[p.why] = counts.get(p.why, 0) + 1
    summary = ", ".join(f"{n} {why}" for why, n in sorted(counts.items())) or "nothing due"
    return dg.SkipReason(f"scheduled for the workers: {summary}")
