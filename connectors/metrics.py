"""Prometheus metrics of the collection workers, in one place.

What a worker measures: platform calls by platform, endpoint and outcome; errors by class;
throttling (events, and the seconds tasks waited); the quota each limit scope has used; the
queue (messages ready, consumers, tasks scheduled in the outbox, tasks in progress); and task
latency (enqueued → done) and handling time. `analisa worker --metrics-port N` serves them.

Label values are bounded: platforms and endpoints come from the catalog (anything else is
`other`), limit scopes are named by their kind (`app`, `account`, `endpoint:video_list`), never
by the account, and no username or account id is ever a label.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from analisa.core.catalog import PLATFORMS, endpoint_names

log = logging.getLogger(__name__)

REGISTRY = CollectorRegistry(auto_describe=True)
"""The worker's own registry: what `/metrics` of a worker serves (with process metrics)."""
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)

# The classes a failed platform call is counted under: the collector's own words for what an
# answer means (connectors/http.py ApiProblem.kind), plus `network` when no answer came.
ERROR_CLASSES = (
    "throttled",
    "token_invalid",
    "permission",
    "not_found",
    "malformed",
    "server",
    "network",
    "other",
)
# Where a throttle came from: the platform answered "stop" (`platform`), a usage header said
# 100 % (`usage_header`), or our shared budget held the call back (`budget`).
THROTTLE_SOURCES = ("platform", "usage_header", "budget")
TASK_OUTCOMES = ("done", "retry", "wait", "park", "replayed", "error")
# How long usage reports of one scope stay in the quota gauge (the platforms' windows are
# an hour at most).
QUOTA_REPORT_TTL_SECONDS = 3600.0

PLATFORM_CALLS = Counter(
    "analisa_worker_platform_calls_total",
    "Calls made to a platform API, by platform, endpoint and outcome (ok or the error class).",
    ["platform", "endpoint", "outcome"],
    registry=REGISTRY,
)
PLATFORM_ERRORS = Counter(
    "analisa_worker_platform_errors_total",
    "Failed platform calls by class: throttled, token_invalid (expired or revoked), "
    "permission, not_found, malformed, server, network, other.",
    ["platform", "error_class"],
    registry=REGISTRY,
)
THROTTLE_EVENTS = Counter(
    "analisa_worker_throttle_events_total",
    "Times a limit stopped calls: the platform throttled (platform), a usage header reached "
    "100 % (usage_header), or the shared budget held a call back (budget).",
    ["platform", "scope", "source"],
    registry=REGISTRY,
)
THROTTLE_WAIT = Counter(
    "analisa_worker_throttle_wait_seconds_total",
    "Seconds spent waiting for limits: inside the call (inline) or by putting the task off "
    "until the limit frees (rescheduled).",
    ["platform", "how"],
    registry=REGISTRY,
)
TASKS = Counter(
    "analisa_worker_tasks_total",
    "Collection tasks handled, by outcome: done, retry (a failure), wait (for a limit), park, "
    "replayed (a redelivery of a committed task), error (the handler raised; redelivered).",
    ["outcome"],
    registry=REGISTRY,
)
TASK_LATENCY = Histogram(
    "analisa_worker_task_latency_seconds",
    "From the moment a task was put on the queue to the moment its outcome was committed.",
    buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200),
    registry=REGISTRY,
)
TASK_HANDLING = Histogram(
    "analisa_worker_task_handling_seconds",
    "Time a worker spent handling one task (all its platform calls and its commit).",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
    registry=REGISTRY,
)
TASKS_IN_PROGRESS = Gauge(
    "analisa_worker_tasks_in_progress",
    "Tasks this worker holds unacknowledged (its share of the queue's unacked messages).",
    registry=REGISTRY,
)
QUEUE_READY = Gauge(
    "analisa_queue_messages_ready",
    "Messages waiting in a collection queue (passive declare, sampled by each worker).",
    ["queue"],
    registry=REGISTRY,
)
QUEUE_CONSUMERS = Gauge(
    "analisa_queue_consumers",
    "Consumers attached to a collection queue (sampled by each worker).",
    ["queue"],
    registry=REGISTRY,
)
OUTBOX_TASKS = Gauge(
    "analisa_queue_scheduled_tasks",
    "Tasks in the outbox not yet published: due now, or waiting for their time (retries, "
    "limits, planned work).",
    ["state"],
    registry=REGISTRY,
)
BROKER_RECONNECTS = Counter(
    "analisa_worker_broker_reconnects_total",
    "Times the worker lost its broker connection and reconnected.",
    registry=REGISTRY,
)
TASKS_SWEPT = Counter(
    "analisa_worker_tasks_swept_total",
    "Published tasks whose message was lost (no outcome, not queued, not in progress past "
    "the bound) that this worker's sweep put back in the outbox to publish again.",
    registry=REGISTRY,
)


_ENDPOINTS = {p: endpoint_names(p) for p in PLATFORMS}


def platform_label(platform: str) -> str:
    return platform if platform in _ENDPOINTS else "other"


def endpoint_label(platform: str, endpoint: str) -> str:
    known = _ENDPOINTS.get(platform)
    return endpoint if known is not None and endpoint in known else "other"


def scope_labels(scope_key: str, account_id: str | None = None) -> tuple[str, str]:
    """(platform, scope kind) of a rate-limit scope key `<platform>:<kind>[:...]`, with the
    account left out: `instagram:account:178…` → (instagram, account),
    `tiktok:endpoint:video_list:<open_id>` → (tiktok, endpoint:video_list)."""
    parts = scope_key.split(":")
    platform = platform_label(parts[0])
    rest = [p for p in parts[1:] if p and p != account_id]
    if not rest or platform == "other":
        return platform, "other" if platform == "other" else "app"
    kind = rest[0]
    if kind == "endpoint" and len(rest) > 1:
        name = rest[1] if rest[1] in _ENDPOINTS[platform] else "other"
        return platform, f"endpoint:{name}"
    return platform, kind if kind in ("app", "account", "endpoint") else "other"


# -- recording (called by the session, the collector and the worker) ---------------------------
def count_call(platform: str, endpoint: str, error_class: str | None) -> None:
    """One platform call and its outcome (None: a usable answer)."""
    p = platform_label(platform)
    outcome = "ok" if error_class is None else _error_class(error_class)
    PLATFORM_CALLS.labels(p, endpoint_label(platform, endpoint), outcome).inc()
    if error_class is not None:
        PLATFORM_ERRORS.labels(p, outcome).inc()


def _error_class(kind: str) -> str:
    return kind if kind in ERROR_CLASSES else "other"


def count_throttle(scope_key: str, source: str, account_id: str | None = None) -> None:
    platform, kind = scope_labels(scope_key, account_id)
    THROTTLE_EVENTS.labels(platform, kind, source).inc()


def add_wait(platform: str, seconds: float, how: str) -> None:
    if seconds > 0:
        THROTTLE_WAIT.labels(platform_label(platform), how).inc(seconds)


def count_task(outcome_kind: str, *, failed: bool = True, replayed: bool = False) -> None:
    if replayed:
        TASKS.labels("replayed").inc()
    elif outcome_kind == "retry" and not failed:
        TASKS.labels("wait").inc()
    else:
        TASKS.labels(outcome_kind if outcome_kind in TASK_OUTCOMES else "error").inc()


class QuotaCollector(Collector):
    """`analisa_worker_quota_used_percent`: per platform and scope kind, the highest usage
    reported in the last hour among the scopes of that kind this worker called (per-account
    scopes are many; the gauge shows the fullest, never which account it is)."""

    def __init__(self, ttl_seconds: float = QUOTA_REPORT_TTL_SECONDS):
        self.ttl_seconds = ttl_seconds
        self._reports: dict[str, tuple[str, str, float, float]] = {}
        self._lock = threading.Lock()

    def report(self, scope_key: str, percent: float, account_id: str | None = None) -> None:
        platform, kind = scope_labels(scope_key, account_id)
        with self._lock:
            self._reports[scope_key] = (platform, kind, float(percent), time.monotonic())

    def values(self) -> dict[tuple[str, str], float]:
        cutoff = time.monotonic() - self.ttl_seconds
        out: dict[tuple[str, str], float] = {}
        with self._lock:
            for key, (platform, kind, percent, at) in list(self._reports.items()):
                if at < cutoff:
                    del self._reports[key]
                    continue
                out[(platform, kind)] = max(out.get((platform, kind), 0.0), percent)
        return out

    def describe(self) -> Iterator[GaugeMetricFamily]:
        yield self._family()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = self._family()
        for (platform, kind), percent in sorted(self.values().items()):
            family.add_metric([platform, kind], percent)
        yield family

    @staticmethod
    def _family() -> GaugeMetricFamily:
        return GaugeMetricFamily(
            "analisa_worker_quota_used_percent",
            "Quota used, in percent, per platform and limit scope kind: what the usage headers "
            "report, or the calls in a sliding window over its limit (the fullest scope of the "
            "kind seen in the last hour).",
            labels=["platform", "scope"],
        )


QUOTA = QuotaCollector()
REGISTRY.register(QUOTA)


# -- the queue ---------------------------------------------------------------------------------
def sample_queue(channel, queue: str) -> int:
    """Messages ready and consumers of `queue` by a passive declare (works without the
    management plugin; unacked messages are the workers' `tasks_in_progress`)."""
    declared = channel.queue_declare(queue, passive=True).method
    QUEUE_READY.labels(queue).set(declared.message_count)
    QUEUE_CONSUMERS.labels(queue).set(declared.consumer_count)
    return declared.message_count


def sample_outbox(conn, now: float) -> tuple[int, int]:
    """Outbox tasks not yet published: (due, waiting)."""
    due, waiting = conn.execute(
        "select count(*) filter (where not_before <= to_timestamp(%s)), "
        "count(*) filter (where not_before > to_timestamp(%s)) "
        "from ops.collection_outbox where published_at is null",
        (now, now),
    ).fetchone()
    OUTBOX_TASKS.labels("due").set(due)
    OUTBOX_TASKS.labels("waiting").set(waiting)
    return due, waiting


def serve(port: int, host: str = "127.0.0.1"):
    """Serve this registry on http://host:port/metrics in a daemon thread; returns the server
    (call `shutdown()` to stop it)."""
    server, _thread = start_http_server(port, addr=host, registry=REGISTRY)
    log.info("worker metrics on http://%s:%d/metrics", host, server.server_port)
    return server
