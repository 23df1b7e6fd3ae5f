"""`analisa accounts list`: every tracked account, connected or public, and how it fares."""

from __future__ import annotations

from datetime import datetime

import psycopg
import typer
from rich.table import Table

from analisa.cli.runtime import console, setup

app = typer.Typer(
    help="Tracked accounts: connected or public, last success, next due, needs_reauth, parked.",
    no_args_is_help=True,
)


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


@app.command("list")
def list_accounts() -> None:
    """Each account: connected (OAuth) or public (Business Discovery), its last successful
    collection, when it is next due, whether it must reconnect (needs_reauth) and why a task
    of it is parked."""
    from connectors.account_status import account_statuses

    _, url = setup()
    with psycopg.connect(url) as conn:
        statuses = account_statuses(conn)
    if not statuses:
        console.print("No account is tracked yet: analisa connect, or analisa track instagram.")
        return
    table = Table(show_lines=False)
    for column in ("platform", "account", "kind", "last success", "next due", "state"):
        table.add_column(column)
    for s in statuses:
        if s.needs_reauth:
            state = f"needs_reauth: {s.reauth_reason or ''}"
        elif s.parked_reason:
            state = f"parked: {s.parked_reason}"
        elif s.pending_task_id:
            state = "pending"
        else:
            state = "ok"
        table.add_row(
            s.platform,
            s.username or s.account_id,
            s.kind,
            _when(s.last_success_at),
            _when(s.next_due_at),
            state,
        )
    console.print(table)
