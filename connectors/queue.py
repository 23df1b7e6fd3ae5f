"""The collection queue: RabbitMQ when AMQP_URL is set, an in-process queue otherwise.

Both keep the same contract: `publish(task, delay)`, and `consume(handler)` which acks a
message only after the handler returned (the handler commits records and ledger first), so a
crash before the ack means redelivery, and the ledger makes the replay change nothing.
RabbitMQ layout (declared idempotently):
- `<prefix>.collect`          priority queue (x-max-priority 10), the work;
- `<prefix>.retry.<N>s`       one queue per delay, TTL N s, dead-lettering back to the work queue
                              (per-queue TTL, since per-message TTL only expires at the head);
- `<prefix>.parked`           tasks that need a human (token revoked, too many attempts).
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from connectors.tasks import CollectionTask, Outcome

RETRY_DELAYS_SECONDS = (5, 30, 120, 600, 3600)
MAX_ATTEMPTS = 6

Handler = Callable[[CollectionTask], Outcome]


@dataclass
class ConsumeStats:
    done: int = 0
    retried: int = 0
    parked: int = 0
    records: int = 0
    parked_reasons: list[str] = field(default_factory=list)


def retry_bucket(delay_seconds: float) -> int:
    """The smallest retry queue delay that waits at least as long as asked (platforms say when)."""
    for bucket in RETRY_DELAYS_SECONDS:
        if delay_seconds <= bucket:
            return bucket
    return RETRY_DELAYS_SECONDS[-1]


class TaskQueue(Protocol):
    def publish(self, task: CollectionTask, delay_seconds: float = 0) -> None: ...

    def consume(self, handler: Handler, *, until_idle: bool = True) -> ConsumeStats: ...

    def parked(self) -> list[tuple[CollectionTask, str]]: ...

    def close(self) -> None: ...


def _settle(queue: TaskQueue, task: CollectionTask, outcome: Outcome, stats: ConsumeStats) -> None:
    """Shared decision after a handler ran: the retry becomes a new attempt, or is parked."""
    stats.records += outcome.records
    if outcome.kind == "done":
        stats.done += 1
    elif outcome.kind == "retry" and task.attempt + 1 < MAX_ATTEMPTS:
        stats.retried += 1
        queue.publish(task.next_attempt(), delay_seconds=outcome.delay_seconds)
    else:
        reason = outcome.reason if outcome.kind == "park" else f"gave up: {outcome.reason}"
        stats.parked += 1
        stats.parked_reasons.append(f"{task.task_id}: {reason}")
        queue._park(task, reason)  # type: ignore[attr-defined]


class InProcessQueue:
    """Same interface, no broker: for `demo` and development without RabbitMQ.

    The clock and sleep are injectable so tests can let a platform's "retry in 10 minutes"
    pass instantly while the order of events stays the real one.
    """

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self._heap: list[tuple[float, int, int, CollectionTask]] = []
        self._seq = itertools.count()
        self._clock = clock
        self._sleep = sleep
        self._parked: list[tuple[CollectionTask, str]] = []

    def publish(self, task: CollectionTask, delay_seconds: float = 0) -> None:
        due = self._clock() + max(0.0, delay_seconds)
        heapq.heappush(self._heap, (due, -task.priority, next(self._seq), task))

    def _park(self, task: CollectionTask, reason: str) -> None:
        self._parked.append((task, reason))

    def parked(self) -> list[tuple[CollectionTask, str]]:
        return list(self._parked)

    def pending(self) -> int:
        return len(self._heap)

    def consume(self, handler: Handler, *, until_idle: bool = True) -> ConsumeStats:
        stats = ConsumeStats()
        while self._heap:
            due, _, _, task = self._heap[0]
            wait = due - self._clock()
            if wait > 0:
                self._sleep(wait)
                continue
            heapq.heappop(self._heap)
            outcome = handler(task)
            _settle(self, task, outcome, stats)
        return stats

    def close(self) -> None:
        self._heap.clear()


class RabbitQueue:
    """pika BlockingConnection: one connection per queue object, one consumer, prefetch 1."""

    def __init__(self, amqp_url: str, prefix: str = "analisa", prefetch: int = 1):
        import pika

        self._pika = pika
        self.prefix = prefix
        self.work_queue = f"{prefix}.collect"
        self.parked_queue = f"{prefix}.parked"
        self._conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
        self._ch = self._conn.channel()
        self._ch.basic_qos(prefetch_count=prefetch)
        self._ch.confirm_delivery()
        self._ch.queue_declare(self.work_queue, durable=True, arguments={"x-max-priority": 10})
        self._ch.queue_declare(self.parked_queue, durable=True)
        for delay in RETRY_DELAYS_SECONDS:
            self._ch.queue_declare(
                self._retry_queue(delay),
                durable=True,
                arguments={
                    "x-message-ttl": delay * 1000,
                    "x-dead-letter-exchange": "",
                    "x-dead-letter-routing-key": self.work_queue,
                },
            )

    def _retry_queue(self, delay: int) -> str:
        return f"{self.prefix}.retry.{delay}s"

    def _send(self, queue: str, task: CollectionTask, headers: dict | None = None) -> None:
        props = self._pika.BasicProperties(
            delivery_mode=2,  # persistent
            priority=min(max(task.priority, 0), 10),
            content_type="application/json",
            message_id=task.task_id,
            headers=headers or {},
        )
        self._ch.basic_publish("", queue, task.to_json(), properties=props, mandatory=True)

    def publish(self, task: CollectionTask, delay_seconds: float = 0) -> None:
        if delay_seconds <= 0:
            self._send(self.work_queue, task)
        else:
            self._send(self._retry_queue(retry_bucket(delay_seconds)), task)

    def _park(self, task: CollectionTask, reason: str) -> None:
        self._send(self.parked_queue, task, headers={"reason": reason[:500]})

    def parked(self) -> list[tuple[CollectionTask, str]]:
        """Peek at parked tasks (messages are returned to the queue unacked)."""
        out, tags = [], []
        while True:
            method, props, body = self._ch.basic_get(self.parked_queue, auto_ack=False)
            if method is None:
                break
            tags.append(method.delivery_tag)
            out.append((CollectionTask.from_json(body), (props.headers or {}).get("reason", "")))
        for tag in tags:
            self._ch.basic_nack(tag, requeue=True)
        return out

    def pending(self) -> int:
        """Messages waiting in the work queue and every retry queue."""
        total = 0
        for q in [self.work_queue, *(self._retry_queue(d) for d in RETRY_DELAYS_SECONDS)]:
            total += self._ch.queue_declare(q, passive=True).method.message_count
        return total

    def consume(
        self,
        handler: Handler,
        *,
        until_idle: bool = True,
        idle_seconds: float = 1.0,
        max_messages: int | None = None,
    ) -> ConsumeStats:
        """Handle messages; with until_idle, return once no task is waiting or delayed."""
        stats = ConsumeStats()
        handled = 0
        for method, _props, body in self._ch.consume(
            self.work_queue, inactivity_timeout=idle_seconds
        ):
            if method is None:
                if until_idle and self.pending() == 0:
                    break
                continue
            task = CollectionTask.from_json(body)
            outcome = handler(task)  # raises → no ack → the broker redelivers
            _settle(self, task, outcome, stats)
            self._ch.basic_ack(method.delivery_tag)
            handled += 1
            if max_messages is not None and handled >= max_messages:
                break
        self._ch.cancel()
        return stats

    def purge(self) -> None:
        for q in [
            self.work_queue,
            self.parked_queue,
            *(self._retry_queue(d) for d in RETRY_DELAYS_SECONDS),
        ]:
            self._ch.queue_purge(q)

    def delete(self) -> None:
        """Remove every queue of this prefix (tests)."""
        for q in [
            self.work_queue,
            self.parked_queue,
            *(self._retry_queue(d) for d in RETRY_DELAYS_SECONDS),
        ]:
            self._ch.queue_delete(q)

    def close(self) -> None:
        if self._conn.is_open:
            self._conn.close()


def open_queue(amqp_url: str | None, prefix: str = "analisa") -> TaskQueue:
    return RabbitQueue(amqp_url, prefix=prefix) if amqp_url else InProcessQueue()
