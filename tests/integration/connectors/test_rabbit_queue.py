"""The RabbitMQ queue: delays through TTL queues, parking, and redelivery after a crash."""

import time
import uuid

import pytest

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


def test_retry_goes_through_the_delay_queue_then_parks(rabbit):
    _, _, queue = rabbit
    queue.publish(CollectionTask("tiktok", "b", "run2", priority=9))
    calls: list[tuple[int, float]] = []
    started = time.monotonic()

    def throttled_once(task):
        calls.append((task.attempt, time.monotonic() - started))
        if task.attempt == 0:
            return Outcome.retry(2, "rate_limit_exceeded")
        return Outcome.park("token revoked")

    stats = queue.consume(throttled_once, idle_seconds=0.5)
    assert [c[0] for c in calls] == [0, 1]
    # the 5 s retry queue holds the task at least 5 s (the platform asked for 2)
    assert calls[1][1] - calls[0][1] >= 4.9
    assert (stats.done, stats.retried, stats.parked) == (0, 1, 1)
    ((task, reason),) = queue.parked()
    assert (task.task_id, reason) == ("run2:tiktok:b:a1", "token revoked")
    assert queue.pending() == 0
