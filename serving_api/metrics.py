"""Prometheus metrics: latency per route, responses and errors by status, cache lookups.

A pure ASGI middleware (no BaseHTTPMiddleware): it reads the matched route template after the
app ran, so labels stay bounded (`/v1/influencers/{platform}/{account_id}`, never one label per
account). With several uvicorn workers `/metrics` sums them through prometheus_client's
multiprocess mode: `run` points PROMETHEUS_MULTIPROC_DIR at a fresh directory before the
workers start (or empties the one given) and removes it when the server stops.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client import REGISTRY as DEFAULT_REGISTRY
from starlette.responses import Response

LATENCY = Histogram(
    "analisa_api_request_duration_seconds",
    "Time to answer a request, by method and route template.",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
RESPONSES = Counter(
    "analisa_api_responses_total", "Responses by route template and status.", ["route", "status"]
)
ERRORS = Counter("analisa_api_errors_total", "Error responses (4xx and 5xx) by status.", ["status"])
CACHE_LOOKUPS = Counter(
    "analisa_api_cache_lookups_total", "Response cache lookups: hit, miss or bypass.", ["result"]
)


class MetricsMiddleware:
    def __init__(self, app) -> None:
        self.app = app
        # bounded: methods x route templates x statuses the app answers
        self._children: dict[tuple[str, str, int], tuple] = {}

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_with_status(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            key = (scope["method"], template, status)
            children = self._children.get(key)
            if children is None:
                # labels() takes a lock and builds a key on every call: once per combination
                children = self._children[key] = (
                    LATENCY.labels(scope["method"], template),
                    RESPONSES.labels(template, str(status)),
                    ERRORS.labels(str(status)) if status >= 400 else None,
                )
            children[0].observe(time.perf_counter() - started)
            children[1].inc()
            if children[2] is not None:
                children[2].inc()


MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def prepare_multiprocess(workers: int) -> Path | None:
    """Before uvicorn starts several workers: the directory their metrics share, set in the
    environment they inherit. A directory already named in PROMETHEUS_MULTIPROC_DIR is
    emptied (files of a previous run would be summed in); else a fresh one is made. None for
    a single worker. Returns the directory when this call made it (`finish_multiprocess`
    removes it)."""
    if workers <= 1:
        return None
    given = os.environ.get(MULTIPROC_ENV)
    if given:
        folder = Path(given)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):
            stale.unlink()
        return None
    folder = Path(tempfile.mkdtemp(prefix="analisa-api-metrics-"))
    os.environ[MULTIPROC_ENV] = str(folder)
    return folder


def finish_multiprocess(made: Path | None) -> None:
    if made is not None:
        shutil.rmtree(made, ignore_errors=True)
        if os.environ.get(MULTIPROC_ENV) == str(made):
            del os.environ[MULTIPROC_ENV]


def metrics_response() -> Response:
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = DEFAULT_REGISTRY
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
