"""The collection queue: RabbitMQ when AMQP_URL is set, an in-process queue otherwise.

Both keep the same contract: `publish(task)` sends a task that is due now, and
`consume(handler, pump=...)` acks a message only after the handler returned (the handler
commits records, ledger row, outcome and any retry first), so a crash before the ack means
redelivery, and the ledger makes the replay change nothing. Delays are not the broker's job:
a retry is a row of the outbox (connectors/outbox.py) that `pump` publishes when it is due.
RabbitMQ layout (declared idempotently): `<prefix>.collect`, a priority queue
(x-max-priority 10). Parked tasks live in the database (ops.account_state, the ledger).
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from connectors.tasks import CollectionTask, Outcome

ENQUEUED_AT_HEADER = "x-analisa-enqueued-at"

Handler = Callable[[CollectionTask], Outcome]
Pump = Callable[[], "float | None"]
"""Publishes the scheduled tasks that are due; returns seconds until the next one (None: none
scheduled) so a consumer knows whether to wait for more work or stop."""


@dataclass
class ConsumeStats:
    done: int = 0
    retried: int = 0
    parked: int = 0
    records: int = 0
    replayed: int = 0
    waited: int = 0
    """Retries that only waited for a limit (they use up no attempt)."""
    suppressed: int = 0
    """Tasks of accounts erased at their owner's request: dropped, nothing collected."""
    parked_reasons: list[str] = field(default_factory=list)

    def add(self, task: CollectionTask, outcome: Outcome) -> None:
        """Count what a handler decided (the decision itself is already committed)."""
        self.records += outcome.records
        if outcome.replayed:
            self.replayed += 1
            return
        if outcome.kind == "done" and outcome.reason == "suppressed":
            self.suppressed += 1
        elif outcome.kind == "done":
            self.done += 1
        elif outcome.kind == "retry":
            self.retried += 1
            self.waited += int(not outcome.failed)
        else:
            self.parked += 1
            self.parked_reasons.append(f"{task.task_id}: {outcome.reason}")


class TaskQueue(Protocol):
    def publish(self, task: CollectionTask) -> None: ...

    def consume(
        self, handler: Handler, *, until_idle: bool = True, pump: Pump | None = None
    ) -> ConsumeStats: ...

    def close(self) -> None: ...


class InProcessQueue:
    """Same interface, no broker: for `demo` and development without RabbitMQ.

    The clock and sleep are injectable so tests can let a platform's "retry in 10 minutes"
    pass instantly while the order of events stays the real one.
    """

    def __init__(
        self,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self._heap: list[tuple[int, int, CollectionTask]] = []
        self._seq = itertools.count()
        self.clock = clock
        self._sleep = sleep

    def publish(self, task: CollectionTask) -> None:
        heapq.heappush(self._heap, (-task.priority, next(self._seq), task))

    def pending(self) -> int:
        return len(self._heap)

    def consume(
        self, handler: Handler, *, until_idle: bool = True, pump: Pump | None = None
    ) -> ConsumeStats:
        stats = ConsumeStats()
        while True:
            next_in = pump() if pump else None
            if self._heap:
                _, _, task = heapq.heappop(self._heap)
                stats.add(task, handler(task))
                continue
            if next_in is None:
                return stats
            self._sleep(max(next_in, 0.0))

    def close(self) -> None:
        self._heap.clear()


class RabbitQueue:
    """pika BlockingConnection: one connection per queue object, one consumer, prefetch 1."""

    def __init__(self, amqp_url: str, prefix: str = "analisa", prefetch: int = 1):
        import pika

        self._pika = pika
        self.prefix = prefix
        self.work_queue = f"{prefix}.collect"
        self._conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
        self._ch = self._conn.channel()
        self._ch.basic_qos(prefetch_count=prefetch)
        self._ch.confirm_delivery()
        declare_queues(self._ch, prefix)

    def publish(self, task: CollectionTask) -> None:
        self._ch.basic_publish(
            "",
            self.work_queue,
            task.to_json(),
            properties=message_properties(task),
            mandatory=True,
        )

    def pending(self) -> int:
        """Messages waiting in the work queue."""
        return self._ch.queue_declare(self.work_queue, passive=True).method.message_count

    def consume(
        self,
        handler: Handler,
        *,
        until_idle: bool = True,
        pump: Pump | None = None,
        idle_seconds: float = 0.5,
        max_messages: int | None = None,
    ) -> ConsumeStats:
        """Handle messages; with until_idle, return once nothing is waiting or scheduled."""
        stats = ConsumeStats()
        handled = 0
        for method, _props, body in self._ch.consume(
            self.work_queue, inactivity_timeout=idle_seconds
        ):
            next_in = pump() if pump else None
            if method is None:
                if until_idle and next_in is None and self.pending() == 0:
                    break
                continue
            task = CollectionTask.from_json(body)
            outcome = handler(task)  # raises → no ack → the broker redelivers
            stats.add(task, outcome)
            self._ch.basic_ack(method.delivery_tag)
            handled += 1
            if max_messages is not None and handled >= max_messages:
                break
        self._ch.cancel()
        return stats

    def purge(self) -> None:
        self._ch.queue_purge(self.work_queue)

    def delete(self) -> None:
        """Remove every queue of this prefix (tests)."""
        self._ch.queue_delete(self.work_queue)

    def close(self) -> None:
        if self._conn.is_open:
            self._conn.close()


def declare_queues(channel, prefix: str) -> None:
    channel.queue_declare(f"{prefix}.collect", durable=True, arguments={"x-max-priority": 10})


def message_properties(task: CollectionTask):
    import pika

    now = time.time()
    return pika.BasicProperties(
        delivery_mode=2,  # persistent
        priority=min(max(task.priority, 0), 10),
        content_type="application/json",
        message_id=task.task_id,
        timestamp=int(now),
        # sub-second enqueue time, for the workers' task latency (enqueued → done)
        headers={ENQUEUED_AT_HEADER: repr(now)},
    )


def enqueued_at(properties) -> float | None:
    """When a message was put on the queue (epoch s), from its header or AMQP timestamp."""
    headers = getattr(properties, "headers", None) or {}
    raw = headers.get(ENQUEUED_AT_HEADER)
    if isinstance(raw, bytes):
        raw = raw.decode("ascii", "replace")
    try:
        return float(raw) if raw is not None else float(properties.timestamp)
    except (TypeError, ValueError):
        return None


def open_queue(amqp_url: str | None, prefix: str = "analisa") -> TaskQueue:
    return RabbitQueue(amqp_url, prefix=prefix) if amqp_url else InProcessQueue()
