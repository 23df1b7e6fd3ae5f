"""`analisa retention purge`: the scheduled retention purge, run once by hand.

The same rule and code as the Dagster job `purge_bronze` (orchestration/defs/retention): raw
bronze past ANALISA_BRONZE_RETENTION_DAYS that the last accepted silver build had read, and
rejected import lines past ANALISA_REJECTED_RETENTION_DAYS. `--dry-run` counts and deletes nothing.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from analisa.cli.runtime import console, setup

app = typer.Typer(
    help="Retention: purge raw data past its period (docs/privacy.md says what is kept).",
    no_args_is_help=True,
)


@app.command()
def purge(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would go; delete nothing.")
    ] = False,
) -> None:
    """Delete raw bronze past its retention period once silver holds it, and old rejected lines."""
    settings, url = setup()
    from orchestration.defs.retention.purge import RetentionPolicy
    from orchestration.defs.retention.purge import purge as run_purge

    report = run_purge(url, RetentionPolicy.from_settings(settings), dry_run=dry_run)
    table = Table(title="Retention dry run (nothing deleted)" if dry_run else "Retention purge")
    table.add_column("table")
    table.add_column("kept for")
    table.add_column("cutoff")
    table.add_column("would delete" if dry_run else "deleted", justify="right")
    table.add_column("why this cutoff")
    for t in report.tables:
        cutoff = t.cutoff.strftime("%Y-%m-%d %H:%M:%S %Z") if t.cutoff else "-"
        table.add_row(t.table, f"{t.period_days} days", cutoff, str(t.rows), t.reason)
    console.print(table)
    console.print(f"purge {report.purge_id} recorded in ops.retention_purges", highlight=False)
