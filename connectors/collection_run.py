"""One collection run: a task per tracked account without pending work, through the outbox and
the queue, handled by a collector in this process until no work is pending.

The same function drives RabbitMQ (AMQP_URL set) and the in-process queue, so `demo` and an
explicit `collect` walk the path the standalone workers (`analisa worker`) and the planner take.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from analisa.core.settings import Settings
from connectors.collector import Collector
from connectors.outbox import in_flight, next_due, publish_due
from connectors.planner import plan, republish_unfinished
from connectors.queue import ConsumeStats, InProcessQueue
from connectors.rate_budget import RateBudget
from connectors.tasks import new_run_id

log = logging.getLogger(__name__)


@dataclass
class RunSummary:
    run_id: str
    tasks: int
    stats: ConsumeStats
    malformed: int
    calls: dict[str, int] = field(default_factory=dict)


def _redis(settings: Settings):
    if not settings.redis_url:
        return None
    import redis

    return redis.Redis.from_url(settings.redis_url)


def shared_budget(settings: Settings) -> RateBudget:
    """The rate budget every worker shares (Redis), or this process's own without Redis."""
    return RateBudget(_redis(settings), prefix=settings.redis_prefix)


def make_pump(
    db_url: str, publish, clock: Callable[[], float], horizon_seconds: float | None = None
):
    """Publish due outbox rows; seconds until the next scheduled one (None when none is, or
    when the next one is further away than `horizon_seconds`: the workers will take it)."""

    def pump() -> float | None:
        if publish_due(db_url, publish, clock()):
            return 0.0  # just published: the consumer may not see it counted yet
        due = next_due(db_url)
        if due is None:
            return None
        wait = max(0.0, due - clock())
        return None if horizon_seconds is not None and wait > horizon_seconds else wait

    return pump


def run_collection(
    settings: Settings,
    db_url: str,
    platforms: tuple[str, ...] = ("instagram", "tiktok"),
    queue_prefix: str = "analisa",
    queue=None,
    budget: RateBudget | None = None,
    clock: Callable[[], float] | None = None,
    horizon_seconds: float | None = None,
) -> RunSummary:
    """Plan every account without pending work, then collect until nothing is scheduled (or
    only work further away than `horizon_seconds`, such as a day-long block, which stays in
    the outbox for the workers)."""
    run_id = new_run_id()
    if queue is None and settings.amqp_url:
        return _run_with_worker(
            settings, db_url, platforms, queue_prefix, budget, clock, run_id, horizon_seconds
        )
    own_queue = queue is None
    if queue is None:
        queue = InProcessQueue()
    clock = clock or getattr(queue, "clock", time.time)
    if isinstance(queue, InProcessQueue):
        republish_unfinished(db_url)  # a previous in-process run died with its queue
    planned = plan(db_url, run_id, clock(), platforms=platforms, due_only=False)
    budget = budget or shared_budget(settings)
    collector = Collector(settings, db_url, budget=budget, clock=clock)
    try:
        pump = make_pump(db_url, queue.publish, clock, horizon_seconds)
        stats = queue.consume(collector, pump=pump)
    finally:
        if own_queue:
            queue.close()
        collector.http.close()
    log.info("collection run %s: %d tasks, %s", run_id, len(planned), stats)
    return RunSummary(run_id, len(planned), stats, collector.stats["malformed"], dict(budget.calls))


def _run_with_worker(
    settings: Settings,
    db_url: str,
    platforms: tuple[str, ...],
    queue_prefix: str,
    budget: RateBudget | None,
    clock: Callable[[], float] | None,
    run_id: str,
    horizon_seconds: float | None,
) -> RunSummary:
    """On RabbitMQ, this process is one more worker (heartbeats, reconnection) until the work
    it planned, and anything due within the horizon, is done."""
    from connectors.worker import Worker, WorkerOptions

    clock = clock or time.time
    planned = plan(db_url, run_id, clock(), platforms=platforms, due_only=False)
    budget = budget or shared_budget(settings)
    collector = Collector(settings, db_url, budget=budget, clock=clock)
    options = WorkerOptions(
        prefix=queue_prefix,
        heartbeat_seconds=settings.worker_heartbeat_seconds,
        sweep_after_seconds=settings.collection_sweep_after_seconds,
        name=f"analisa-collect-{run_id}",
    )
    worker = Worker(settings.amqp_url, db_url, collector, options, clock=clock)

    def finished() -> bool:
        due = next_due(db_url)
        if due is not None and (horizon_seconds is None or due - clock() <= horizon_seconds):
            return False
        # queued or running anywhere (a message this consumer holds but has not started yet
        # is not counted by the broker as waiting)
        return in_flight(db_url) == 0 and worker.queue_depth() == 0

    try:
        stats = worker.run(until=finished)
    finally:
        collector.http.close()
    log.info("collection run %s: %d tasks, %s", run_id, len(planned), stats)
    return RunSummary(run_id, len(planned), stats, collector.stats["malformed"], dict(budget.calls))
