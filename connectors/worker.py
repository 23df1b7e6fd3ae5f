"""`analisa worker`: a competing consumer of the collection queue, as many as wanted.

The handler runs on a worker thread, never on pika's I/O thread, so heartbeats keep flowing
during a long task; the ack is handed back with `add_callback_threadsafe`. A lost or closed
broker connection is reopened with exponential backoff (the unacked task is redelivered and
its ledger row makes the replay change nothing). SIGTERM stops taking work, lets the running
task finish within a grace period and acks it; past the grace period the connection closes
unacked and the broker requeues the task. Each worker also runs the outbox relay (due retries
and planned work are published by whichever worker gets there first: SKIP LOCKED) and, every
minute, the sweep (connectors/sweep.py) that puts published work whose message was lost back
in the outbox.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import psycopg

from analisa.core.logging import log_context
from connectors import metrics
from connectors.outbox import publish_due
from connectors.queue import (
    ConsumeStats,
    Handler,
    declare_queues,
    enqueued_at,
    message_properties,
)
from connectors.sweep import DEFAULT_SWEEP_AFTER_SECONDS, sweep
from connectors.tasks import CollectionTask

log = logging.getLogger(__name__)


@dataclass
class WorkerOptions:
    prefix: str = "analisa"
    heartbeat_seconds: int = 30
    relay_interval_seconds: float = 0.25
    grace_seconds: float = 60.0
    """How long SIGTERM waits for the running task before leaving it to the broker."""
    backoff_initial_seconds: float = 0.5
    backoff_max_seconds: float = 30.0
    name: str = "analisa-worker"
    queue_sample_seconds: float = 5.0
    """How often the queue depth and the outbox are sampled for the metrics (0: never)."""
    sweep_every_seconds: float = 60.0
    """How often this worker sweeps for lost work (0: never)."""
    sweep_after_seconds: float = DEFAULT_SWEEP_AFTER_SECONDS
    """Published work without an outcome, not queued and not in progress for this long is lost."""


class Worker:
    def __init__(
        self,
        amqp_url: str,
        db_url: str,
        handler: Handler,
        options: WorkerOptions | None = None,
        clock: Callable[[], float] = time.time,
    ):
        import pika

        self._pika = pika
        self.amqp_url = amqp_url
        self.db_url = db_url
        self.handler = handler
        self.options = options or WorkerOptions()
        self.clock = clock
        self.work_queue = f"{self.options.prefix}.collect"
        self.stats = ConsumeStats()
        self.reconnects = 0
        self.swept = 0
        """Lost tasks this worker's sweeps put back in the outbox."""
        self._stop = threading.Event()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="collect")
        self._running: Future | None = None
        self._conn = None
        self._ch = None

    # -- control ------------------------------------------------------------------------------
    def stop(self) -> None:
        """Stop taking work (signal-safe: only sets a flag the loop reads)."""
        self._stop.set()

    @property
    def busy(self) -> bool:
        return self._running is not None and not self._running.done()

    # -- the loop -----------------------------------------------------------------------------
    def run(self, until: Callable[[], bool] | None = None) -> ConsumeStats:
        """Consume until stop() (or `until()` is true while idle); reconnect on broker loss."""
        backoff = self.options.backoff_initial_seconds
        while not self._stop.is_set():
            try:
                self._connect()
                backoff = self.options.backoff_initial_seconds
                self._serve(until)
                self._shutdown_gracefully()
                break
            except self._connection_errors() as exc:
                self.reconnects += 1
                metrics.BROKER_RECONNECTS.inc()
                log.warning("broker connection lost (%s); reconnecting in %.1fs", exc, backoff)
                self._wait_for_running()  # its ack is gone with the channel: it is redelivered
                self._close_quietly()
                time.sleep(backoff * (1 + random.random() * 0.2))
                backoff = min(backoff * 2, self.options.backoff_max_seconds)
        self._executor.shutdown(wait=True)
        return self.stats

    def _connection_errors(self) -> tuple[type[BaseException], ...]:
        exc = self._pika.exceptions
        return (exc.AMQPConnectionError, exc.AMQPChannelError, exc.StreamLostError, OSError)

    def _connect(self) -> None:
        params = self._pika.URLParameters(self.amqp_url)
        params.heartbeat = self.options.heartbeat_seconds
        params.client_properties = {"connection_name": self.options.name}
        self._conn = self._pika.BlockingConnection(params)
        self._ch = self._conn.channel()
        self._ch.basic_qos(prefetch_count=1)
        self._ch.confirm_delivery()
        declare_queues(self._ch, self.options.prefix)
        self._consumer_tag = self._ch.basic_consume(self.work_queue, self._on_message)

    def _serve(self, until: Callable[[], bool] | None) -> None:
        last_relay = 0.0
        last_sample = 0.0
        last_sweep = time.monotonic()  # the first sweep one interval after (re)connecting
        while not self._stop.is_set():
            self._conn.process_data_events(time_limit=0.1)
            now = time.monotonic()
            every = self.options.queue_sample_seconds
            if every > 0 and now - last_sample >= every:
                last_sample = now
                self.sample_queues()
            every = self.options.sweep_every_seconds
            if every > 0 and now - last_sweep >= every:
                last_sweep = now
                self.sweep()
            published = 0
            if now - last_relay >= self.options.relay_interval_seconds:
                last_relay = now
                published = publish_due(self.db_url, self._publish, self.clock())
            # just published: the message may not be counted or delivered yet
            if until is not None and not published and not self.busy and until():
                return

    def sample_queues(self) -> None:
        """Queue depth (passive declare on this channel) and the outbox into the metrics."""
        metrics.sample_queue(self._ch, self.work_queue)
        try:
            with psycopg.connect(self.db_url, connect_timeout=5) as conn:
                metrics.sample_outbox(conn, self.clock())
        except psycopg.Error as exc:  # the relay reports the database; the gauges keep
            log.warning("outbox not sampled: %s", exc)

    def sweep(self) -> int:
        """Put published work whose message was lost back in the outbox (the relay publishes
        it again); counted in the metrics. Returns how many tasks."""
        try:
            result = sweep(
                self.db_url,
                older_than_seconds=self.options.sweep_after_seconds,
                queued=self.queue_depth,
            )
        except psycopg.Error as exc:  # the relay reports the database; try again next time
            log.warning("no sweep for lost work: %s", exc)
            return 0
        self.swept += len(result.swept)
        metrics.TASKS_SWEPT.inc(len(result.swept))
        return len(result.swept)

    def queue_depth(self) -> int:
        """Messages waiting in the work queue (call from `until`, on the loop's thread)."""
        return self._ch.queue_declare(self.work_queue, passive=True).method.message_count

    def _publish(self, task: CollectionTask) -> None:
        self._ch.basic_publish(
            "",
            self.work_queue,
            task.to_json(),
            properties=message_properties(task),
            mandatory=True,
        )

    def _on_message(self, channel, method, props, body: bytes) -> None:
        task = CollectionTask.from_json(body)
        metrics.TASKS_IN_PROGRESS.inc()
        self._running = self._executor.submit(
            self._handle, self._conn, channel, method.delivery_tag, task, enqueued_at(props)
        )

    def _handle(
        self, conn, channel, tag: int, task: CollectionTask, enqueued: float | None = None
    ) -> None:
        """On the worker thread: run the handler, then hand the ack to the I/O thread."""
        started = time.perf_counter()
        try:
            with log_context(worker=self.options.name):
                try:
                    outcome = self.handler(task)
                except Exception:
                    log.exception("task %s failed; the broker will redeliver it", task.task_id)
                    metrics.count_task("error")
                    time.sleep(1.0)  # do not spin on a task that fails at once
                    self._threadsafe(conn, functools.partial(_nack, channel, tag))
                    return
            metrics.TASK_HANDLING.observe(time.perf_counter() - started)
            if enqueued is not None:
                metrics.TASK_LATENCY.observe(max(0.0, time.time() - enqueued))
            metrics.count_task(outcome.kind, failed=outcome.failed, replayed=outcome.replayed)
            if outcome.kind == "retry" and not outcome.failed and not outcome.replayed:
                # put off until a limit frees: the wait the task was told to take
                metrics.add_wait(task.platform, outcome.delay_seconds, "rescheduled")
            self.stats.add(task, outcome)
            self._threadsafe(conn, functools.partial(_ack, channel, tag))
        finally:
            metrics.TASKS_IN_PROGRESS.dec()

    @staticmethod
    def _threadsafe(conn, callback) -> None:
        try:
            conn.add_callback_threadsafe(callback)
        except Exception:  # the connection is gone: the broker redelivers, the ledger replays
            log.warning("connection closed before the ack; the task will be redelivered")

    def _wait_for_running(self, timeout: float | None = None) -> bool:
        if self._running is None:
            return True
        try:
            self._running.result(timeout=timeout)
        except TimeoutError:
            return False
        except Exception:
            pass
        return True

    def _shutdown_gracefully(self) -> None:
        """Stop deliveries, let the running task finish (grace period), send its ack, close."""
        with contextlib.suppress(Exception):
            self._ch.basic_cancel(self._consumer_tag)
        deadline = time.monotonic() + self.options.grace_seconds
        while self.busy and time.monotonic() < deadline:
            self._conn.process_data_events(time_limit=0.1)
        if not self.busy:
            self._conn.process_data_events(time_limit=0)  # the ack callback
        else:
            log.warning("task still running after the grace period: left to the broker")
        self._close_quietly()

    def _close_quietly(self) -> None:
        try:
            if self._conn is not None and self._conn.is_open:
                self._conn.close()
        except Exception:
            pass


def _ack(channel, tag: int) -> None:
    if channel.is_open:
        channel.basic_ack(tag)


def _nack(channel, tag: int) -> None:
    if channel.is_open:
        channel.basic_nack(tag, requeue=True)
