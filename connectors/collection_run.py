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
from connectors.outbox import next_due, publish_due
from connectors.planner import plan, republish_unfinished
from connectors.queue import ConsumeStats, InProcessQueue, RabbitQueue
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


def make_pump(db_url: str, publish, clock: Callable[[], float]):
    """Publish due outbox rows; seconds until the next scheduled one (None when none is)."""

    def pump() -> float | None:
        if publish_due(db_url, publish, clock()):
            return 0.0  # just published: the consumer may not see it counted yet
        due = next_due(db_url)
        return None if due is None else max(0.0, due - clock())

    return pump


def run_collection(
    settings: Settings,
    db_url: str,
    platforms: tuple[str, ...] = ("instagram", "tiktok"),
    queue_prefix: str = "analisa",
    queue=None,
    budget: RateBudget | None = None,
    clock: Callable[[], float] | None = None,
) -> RunSummary:
    run_id = new_run_id()
    own_queue = queue is None
    if queue is None:
        queue = (
            RabbitQueue(settings.amqp_url, prefix=queue_prefix)
            if settings.amqp_url
            else InProcessQueue()
        )
    clock = clock or getattr(queue, "clock", time.time)
    if isinstance(queue, InProcessQueue):
        republish_unfinished(db_url)  # a previous in-process run died with its queue
    planned = plan(db_url, run_id, clock(), platforms=platforms, due_only=False)
    budget = budget or shared_budget(settings)
    collector = Collector(settings, db_url, budget=budget, clock=clock)
    try:
        stats = queue.consume(collector, pump=make_pump(db_url, queue.publish, clock))
    finally:
        if own_queue:
            queue.close()
        collector.http.close()
    log.info("collection run %s: %d tasks, %s", run_id, len(planned), stats)
    return RunSummary(run_id, len(planned), stats, collector.stats["malformed"], dict(budget.calls))
