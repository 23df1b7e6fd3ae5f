"""One collection run: a task per tracked account, through the queue, handled by collectors.

The same function drives RabbitMQ (AMQP_URL set) and the in-process queue, so `demo` and
production walk the same path.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import psycopg

from analisa.core.settings import Settings
from connectors.collector import Collector
from connectors.queue import ConsumeStats, InProcessQueue, RabbitQueue
from connectors.rate_budget import RateBudget
from connectors.tasks import CollectionTask, new_run_id
from connectors.token_store import active_accounts

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


def run_collection(
    settings: Settings,
    db_url: str,
    platforms: tuple[str, ...] = ("instagram", "tiktok"),
    queue_prefix: str = "analisa",
    queue=None,
    budget: RateBudget | None = None,
) -> RunSummary:
    run_id = new_run_id()
    with psycopg.connect(db_url) as conn:
        accounts = [a for a in active_accounts(conn) if a[0] in platforms]
    own_queue = queue is None
    if queue is None:
        queue = (
            RabbitQueue(settings.amqp_url, prefix=queue_prefix)
            if settings.amqp_url
            else InProcessQueue()
        )
    budget = budget or RateBudget(_redis(settings))
    collector = Collector(settings, db_url, budget=budget)
    try:
        for platform, account_id in accounts:
            queue.publish(CollectionTask(platform=platform, account_id=account_id, run_id=run_id))
        stats = queue.consume(collector)
    finally:
        if own_queue:
            queue.close()
        collector.http.close()
    log.info("collection run %s: %d tasks, %s", run_id, len(accounts), stats)
    return RunSummary(
        run_id, len(accounts), stats, collector.stats["malformed"], dict(budget.calls)
    )
