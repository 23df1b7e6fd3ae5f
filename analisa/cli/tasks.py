"""`analisa tasks`: parked collection tasks, and replaying them once their cause is fixed."""

from __future__ import annotations

from typing import Annotated

import psycopg
import typer

from analisa.cli.runtime import console, setup

app = typer.Typer(
    help="Collection tasks that need a human: list the parked ones, replay them.",
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
