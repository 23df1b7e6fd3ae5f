"""Data subjects' rights: `erase`, `subject-export` and `audit` (privacy/ does the work)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

import psycopg
import typer
from rich.markup import escape

from analisa.cli.runtime import console, err, fail, setup
from analisa.core.catalog import PLATFORMS

Platform = Literal[PLATFORMS]  # type: ignore[valid-type]  # the catalog's list, as choices


def _print_report(report) -> None:
    console.print(f"subject {report.subject[:16]}… ({report.platform})", highlight=False)
    if report.newly_suppressed:
        console.print("  on the suppression list: collection and ingest will skip it")
    for table, counts in sorted(report.tables.items()):
        console.print(
            f"  {table}: {counts.get('deleted', 0)} deleted, {counts.get('scrubbed', 0)} scrubbed",
            highlight=False,
        )
    if not report.found_anything:
        console.print("  nothing left to erase: no row, task, cache key or export holds it")
    console.print(f"  token: {report.token}", highlight=False)
    if report.queue is not None:
        console.print(f"  queued tasks dropped: {report.queue['dropped']}")
    if report.cache is not None:
        console.print(
            f"  cache: {report.cache['keys_deleted']} keys deleted, gold version "
            f"{report.cache['gold_version']}"
        )
    if report.exports is not None:
        console.print(
            f"  exports: {report.exports.get('files_rewritten', 0)} files rewritten, "
            f"{report.exports.get('rows_removed', 0)} rows removed"
            + (f" (snapshot {report.exports['snapshot']})" if "snapshot" in report.exports else ""),
        )
    left = sum(report.remaining_rows.values())
    console.print(
        f"verification: {left} rows, {report.remaining_cache_keys} cache keys, "
        f"{report.remaining_tasks} queued tasks, {len(report.remaining_export_files)} export "
        "files still hold the account",
        highlight=False,
    )
    for table, n in sorted(report.remaining_rows.items()):
        err.print(f"  [red]left[/] {escape(table)}: {n} rows")
    for name, n in sorted(report.remaining_export_files.items()):
        err.print(f"  [red]left[/] export {escape(name)}: {n} rows")
    for problem in report.problems:
        err.print(f"  [red]problem[/] {escape(problem)}")


def erase(
    platform: Annotated[
        Platform | None, typer.Option(help="The platform of the account to erase.")
    ] = None,
    account_id: Annotated[
        str | None, typer.Option("--account-id", help="The account's id on the platform.")
    ] = None,
    username: Annotated[
        list[str] | None,
        typer.Option(help="A username the account had (found in the data too); repeatable."),
    ] = None,
    pending: Annotated[
        bool, typer.Option("--pending", help="Carry out the erasure requests made through the API.")
    ] = False,
) -> None:
    """Erase every trace of an influencer: bronze (raw answers and rejected envelopes), silver,
    gold, quarantine, tasks, tokens (revoked where the platform allows), cache and exports; then
    search everything again. The account goes on the suppression list, so later collection and
    ingest skip it until its owner connects again. Recorded in the audit log under a pseudonym.

    Exit codes: 0 erased (or nothing was left), 1 something still holds the account."""
    from privacy.audit import os_actor
    from privacy.erase import erase as run_erase
    from privacy.requests import run_pending

    if pending:
        if platform or account_id:
            raise typer.BadParameter("--pending takes no account", param_hint="'--pending'")
        settings, url = setup()
        done = run_pending(settings, url, actor=os_actor())
        if not done:
            console.print("no pending erasure request")
        for item in done:
            console.print(f"request {item.request_id}: {item.status}")
            if item.report is not None:
                _print_report(item.report)
        if any(item.status != "done" for item in done):
            raise typer.Exit(1)
        return
    if not platform or not account_id or not account_id.strip():
        raise typer.BadParameter(
            "give --platform and --account-id (or --pending)", param_hint="'--account-id'"
        )
    if len(account_id) > 128:
        raise typer.BadParameter("an account id is at most 128 characters")
    settings, url = setup()
    report = run_erase(
        settings, url, platform, account_id, usernames=tuple(username or ()), actor=os_actor()
    )
    _print_report(report)
    if not report.clean:
        raise fail("the erasure is not complete: something above still holds the account")


def subject_export(
    platform: Annotated[Platform, typer.Option(help="The platform of the account.")],
    account_id: Annotated[str, typer.Option("--account-id", help="The account's id.")],
    username: Annotated[
        list[str] | None, typer.Option(help="A username the account had; repeatable.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Write the JSON here (default: standard output).")
    ] = None,
) -> None:
    """Everything held about an account, as JSON: the rows of every table that has them,
    grouped by schema.table, raw platform answers included; tokens never (their existence is
    stated). Recorded in the audit log under a pseudonym."""
    from privacy.access import dumps, export
    from privacy.audit import os_actor

    if not account_id.strip():
        raise typer.BadParameter("an account id is required", param_hint="'--account-id'")
    settings, url = setup()
    data = export(
        url,
        settings.pseudonym_key.get_secret_value(),
        platform,
        account_id.strip(),
        actor=os_actor(),
        usernames=tuple(username or ()),
    )
    text = dumps(data)
    if out is None:
        typer.echo(text)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    # the file holds personal data: readable by its owner only
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, out)
    counts = data["row_counts"]
    console.print(
        f"{sum(counts.values())} rows from {len(counts)} tables written to {out}", highlight=False
    )


def audit(
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="Entries to show.")] = 50,
) -> None:
    """The audit log of admin and data-subject actions, newest first (subjects as pseudonyms)."""
    import json

    from privacy.audit import entries

    _, url = setup()
    with psycopg.connect(url) as conn:
        rows = entries(conn, limit)
    if not rows:
        console.print("the audit log is empty")
    for e in rows:
        subject = (e.subject or "-")[:16]
        console.print(
            f"{e.audit_id:>6} {e.at:%Y-%m-%d %H:%M:%S%z} {e.actor} {e.action} {subject} "
            f"{e.outcome} {json.dumps(e.details, sort_keys=True)}",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
