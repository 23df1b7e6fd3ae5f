"""`analisa worker`: a collection worker, one of as many competing consumers as wanted."""

from __future__ import annotations

import signal
from typing import Annotated

import typer

from analisa.cli.runtime import console, fail, setup


def worker(
    name: Annotated[
        str, typer.Option(help="Connection name shown by the broker (tell workers apart).")
    ] = "analisa-worker",
    metrics_port: Annotated[
        int | None,
        typer.Option(
            min=0,
            max=65535,
            help="Serve Prometheus metrics on this port (/metrics); 0 turns them off. "
            "Default: ANALISA_WORKER_METRICS_PORT (0).",
        ),
    ] = None,
) -> None:
    """Collect accounts from the queue until stopped: retries and planned work are published
    on time from the outbox; SIGTERM (or Ctrl-C) finishes the running task, then exits.
    Needs AMQP_URL (RabbitMQ) and, to share rate budgets between workers, REDIS_URL."""
    from analisa.core.logging import configure_from_settings
    from connectors import metrics
    from connectors.collection_run import shared_budget
    from connectors.collector import Collector
    from connectors.worker import Worker, WorkerOptions

    settings, url = setup()
    if not settings.amqp_url:
        raise fail("analisa worker needs AMQP_URL: workers share work through RabbitMQ.")
    configure_from_settings(settings)  # a service: log at the configured level
    collector = Collector(settings, url, budget=shared_budget(settings))
    options = WorkerOptions(
        prefix=settings.queue_prefix,
        heartbeat_seconds=settings.worker_heartbeat_seconds,
        grace_seconds=settings.worker_grace_seconds,
        sweep_after_seconds=settings.collection_sweep_after_seconds,
        name=name,
    )
    consumer = Worker(settings.amqp_url, url, collector, options)

    def _stop(signum, _frame):
        console.print(f"{signal.Signals(signum).name}: finishing the running task, then exiting")
        consumer.stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    port = settings.worker_metrics_port if metrics_port is None else metrics_port
    server = None
    if port:
        try:
            server = metrics.serve(port, settings.metrics_host)
        except OSError as exc:
            raise fail(f"cannot serve metrics on {settings.metrics_host}:{port}: {exc}") from exc
        console.print(f"Worker {name} metrics on http://{settings.metrics_host}:{port}/metrics")
    console.print(f"Worker {name} consuming {settings.queue_prefix}.collect")
    try:
        stats = consumer.run()
    finally:
        if server is not None:
            server.shutdown()
    console.print(
        f"Worker {name} stopped: {stats.done} done, {stats.retried} retried "
        f"({stats.waited} waiting for a limit), {stats.parked} parked, "
        f"{stats.replayed} redeliveries replayed, {consumer.reconnects} reconnects"
        + (f", {stats.suppressed} dropped (erased accounts)" if stats.suppressed else "")
    )
