"""`analisa metrics`: the pipeline's Prometheus exporter (runs, steps, gates, rows per layer).

Dagster runs end before anything could scrape them; each writes its numbers to the ops tables
when it ends, and this small long-running process serves them, read afresh on every scrape.
"""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer

from analisa.cli.runtime import console, fail, setup


def metrics(
    port: Annotated[
        int, typer.Option(min=1, max=65535, help="Port of the /metrics endpoint.")
    ] = 9102,
    host: Annotated[
        str | None,
        typer.Option(help="Interface to listen on. Default: ANALISA_METRICS_HOST (127.0.0.1)."),
    ] = None,
) -> None:
    """Serve pipeline-run metrics to Prometheus until stopped: the latest run of each job
    (status, duration, each step's time), every gate's latest verdict per table, and the rows
    of every bronze, silver and gold table."""
    from prometheus_client import CollectorRegistry, start_http_server

    from analisa.core.logging import configure_from_settings
    from orchestration.lib.pipeline_runs import PipelineRunCollector

    settings, url = setup()
    configure_from_settings(settings)  # a service: log at the configured level
    registry = CollectorRegistry()
    registry.register(PipelineRunCollector(url))
    address = host or settings.metrics_host
    try:
        server, _ = start_http_server(port, addr=address, registry=registry)
    except OSError as exc:
        raise fail(f"cannot serve metrics on {address}:{port}: {exc}") from exc
    stop = threading.Event()

    def _stop(signum, _frame):
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    console.print(f"Pipeline metrics on http://{address}:{port}/metrics (Ctrl-C stops)")
    stop.wait()
    server.shutdown()
