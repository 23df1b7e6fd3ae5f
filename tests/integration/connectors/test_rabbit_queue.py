"""The RabbitMQ queue: redelivery after a crash, and scheduled tasks published on time."""

import time
import uuid

import psycopg
import pytest

from connectors.collection_run import make_pump
from connectors.outbox import schedule
from connectors.queue import RabbitQueue
from connectors.tasks import CollectionTask, Outcome


@pytest.fixture
def rabbit(amqp_url):
    prefix = f"analisa-test-{uuid.uuid4().hex[:8]}"
    queue = RabbitQueue(amqp_url, prefix=prefix)
    yield amqp_url, prefix, queue
    queue.close()
    cleaner = RabbitQueue(amqp_url, prefix=prefix)
    try:
        cleaner.delete()
    finally:
        cleaner.close()


class Crash(Exception):
    pass


def test_crash_before_ack_is_redelivered_and_handled_once(rabbit):
    url, prefix, queue = rabbit
    queue.publish(CollectionTask("instagram", "a", "run1"))
    effects: list[str] = []

    def crashing(task):
        effects.append(task.task_id)  # the work "commits" ...
        raise Crash  # ... and the worker dies before the ack

    with pytest.raises(Crash):
        queue.consume(crashing)
    queue.close()  # the dead worker's connection goes away: the message is requeued

    second = RabbitQueue(url, prefix=prefix)
    try:

        def idempotent(task):
            if task.task_id in effects:  # the ledger says it is done
                return Outcome.done(reason="already committed")
            effects.append(task.task_id)
            return Outcome.done(records=1)

        stats = second.consume(idempotent, idle_seconds=0.3)
    finally:
        second.close()
    assert effects == ["run1:instagram:a:a0"]
    assert stats.done == 1


def test_scheduled_task_is_published_on_time_not_before(amqp_url, db_url, rabbit_prefix):
    """A retry waits in the outbox (any length) and runs within 2 s after its due time."""
    queue = RabbitQueue(amqp_url, prefix=rabbit_prefix)
    started = time.time()
    due = {"now": started + 0.5, "later": started + 3.0}
    with psycopg.connect(db_url) as conn, conn.transaction():
        schedule(conn, CollectionTask("tiktok", "b", "run2", priority=9), due["later"])
        schedule(conn, CollectionTask("tiktok", "c", "run2", priority=5), due["now"])
    ran: dict[str, float] = {}

    def handler(task):
        ran[task.account_id] = time.time()
        return Outcome.done()

    try:
        stats = queue.consume(
            handler, pump=make_pump(db_url, queue.publish, time.time), idle_seconds=0.1
        )
    finally:
        queue.close()
    assert stats.done == 2
    assert due["now"] <= ran["c"] <= due["now"] + 2.0
    assert due["later"] <= ran["b"] <= due["later"] + 2.0
    with psycopg.connect(db_url) as conn:
        unpublished = conn.execute(
            "select count(*) from ops.collection_outbox where published_at is null"
        ).fetchone()[0]
    assert unpublished == 0


def test_work_beyond_the_horizon_stays_in_the_outbox_for_the_workers(db_url):
    """`analisa collect` does not wait out a day-long block: it returns, the task stays."""
    from connectors.queue import InProcessQueue

    now = time.time()
    with psycopg.connect(db_url) as conn, conn.transaction():
        schedule(conn, CollectionTask("instagram", "blocked", "r"), now + 86400)
    queue = InProcessQueue()
    stats = queue.consume(
        lambda task: Outcome.done(), pump=make_pump(db_url, queue.publish, time.time, 900)
    )
    assert (stats.done, queue.pending()) == (0, 0)
    with psycopg.connect(db_url) as conn:
        waiting = conn.execute(
            "select task_id from ops.collection_outbox where published_at is null"
        ).fetchall()
    assert waiting == [("r:instagram:blocked:a0",)]
