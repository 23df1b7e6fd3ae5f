"""`analisa tasks`: parked collection tasks, replaying them once their cause is fixed, and
sweeping lost work back to the workers."""

from __future__ import annotations

from typing import Annotated

import psycopg
import typer

from analisa.cli.runtime import console, fail, load_settings, setup

app = typer.Typer(
    help="Collection tasks that need a human: list the parked ones, replay them, sweep lost "
    "ones back to the workers.",
    no_args_is_help=True,
)


@app.command("parked")
def parked() -> None:
    """Parked tasks with their reasons (permission refused, gave up after failures, no
    token, ...); accounts that must reconnect show in `analisa accounts list`."""
    from connectors.account_status import parked_tasks

    _, url = setup()
    with psycopg.connect(url) as conn:
        tasks = parked_tasks(conn)
    if not tasks:
        console.print("No parked task.")
        return
    for t in tasks:
        console.print(
            f"{t.task_id}  {t.parked_at:%Y-%m-%d %H:%M}  {t.reason}", highlight=False, markup=False
        )
    console.print(f"{len(tasks)} parked; analisa tasks replay [TASK_ID ...] schedules them again.")


@app.command("replay")
def replay(
    task_ids: Annotated[
        list[str] | None, typer.Argument(help="Parked task ids (default: every parked task).")
    ] = None,
) -> None:
    """Schedule a new round for parked accounts; the workers pick them up at once."""
    from connectors.account_status import replay as replay_parked

    _, url = setup()
    with psycopg.connect(url) as conn, conn.transaction():
        scheduled = replay_parked(conn, task_ids or None)
    for task in scheduled:
        console.print(f"scheduled {task.task_id}", highlight=False, markup=False)
    console.print(f"{len(scheduled)} task(s) scheduled.")


@app.command("sweep")
def sweep_lost(
    older_than: Annotated[
        float | None,
        typer.Option(
            min=0,
            help="Seconds a task must have been published, with no outcome, not queued and "
            "not in progress, to count as lost. Default: ANALISA_COLLECTION_SWEEP_AFTER_SECONDS "
            "(600).",
        ),
    ] = None,
) -> None:
    """Publish again the collection work whose message was lost (a purged queue, a broker
    that lost it); the workers and the planner sensor also do this every minute. A task
    still queued or in progress is left alone."""
    from connectors.sweep import ready_messages, sweep

    if not load_settings().amqp_url:
        raise fail(
            "analisa tasks sweep needs AMQP_URL: only work published to RabbitMQ can be lost "
            "(in-process runs publish their unfinished work again when they start)."
        )
    settings, url = setup()
    bound = settings.collection_sweep_after_seconds if older_than is None else older_than
    import pika

    try:
        result = sweep(
            url,
            older_than_seconds=bound,
            queued=lambda: ready_messages(settings.amqp_url, settings.queue_prefix),
        )
    except pika.exceptions.AMQPError as exc:
        raise fail(f"cannot count the queued tasks on the broker: {exc!r}") from exc
    if not result.ran:
        console.print("Another sweep is under way; nothing done.")
        return
    for task_id in result.swept:
        console.print(f"swept {task_id}", highlight=False, markup=False)
    console.print(
        f"{len(result.swept)} lost task(s) back in the outbox (the workers publish them again); "
        f"{result.unfinished} published without an outcome, {result.queued} queued in the "
        f"broker, {result.in_progress} in progress.",
        highlight=False,
        soft_wrap=True,
    )
