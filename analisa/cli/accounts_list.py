"""`analisa accounts list`: every tracked account, connected or public, and how it fares."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

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


def _print_logins(logins, window_seconds: float) -> None:
    """The brand business logins public creators are read through, and what each needs."""
    now = datetime.now(UTC)
    window = timedelta(seconds=window_seconds)
    table = Table(title="Brand logins (Facebook Login: public creators are read through them)")
    for column in ("business account", "page", "token valid until", "data access until", "state"):
        table.add_column(column)
    for login in logins:
        ends = login.data_access_expires_at
        if login.needs_reauth:
            state = f"needs_reauth: {login.reauth_reason or ''}"
        elif login.access_expires_at is not None and login.access_expires_at <= now:
            state = "expired: the brand must log in again: analisa track login"
        elif ends is not None and ends - now <= window:
            # renewals never extend data access: only a new login does
            state = f"log in again before {_when(ends)}: analisa track login"
        else:
            state = "ok (renewed before it expires)"
        table.add_row(
            login.business_account_id,
            login.page_name or "-",
            _when(login.access_expires_at),
            _when(ends),
            state,
        )
    console.print(table)


@app.command("list")
def list_accounts() -> None:
    """Each account: connected (OAuth) or public (Business Discovery), its last successful
    collection, when it is next due, whether it must reconnect (needs_reauth) and why a task
    of it is parked."""
    from connectors.account_status import account_statuses
    from connectors.discovery_token import login_statuses

    settings, url = setup()
    with psycopg.connect(url) as conn:
        statuses = account_statuses(conn)
        logins = login_statuses(conn)
    if logins:
        _print_logins(logins, settings.token_refresh_window_seconds)
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
