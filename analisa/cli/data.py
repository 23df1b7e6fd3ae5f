"""`ingest`: raw API responses you already hold go into bronze like collected ones."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import psycopg
import typer
from rich.markup import escape

from analisa.cli.runtime import console, err, setup

SHOWN_REJECTIONS = 20


def ingest(
    path: Annotated[
        Path,
        typer.Argument(
            exists=True,
            readable=True,
            help="A .json/.jsonl file (optionally .gz) or a folder of them.",
        ),
    ],
    show: Annotated[
        int, typer.Option(min=0, help="Rejected envelopes to list here (all are in the table).")
    ] = SHOWN_REJECTIONS,
) -> None:
    """Load raw API responses (envelopes) into bronze; bad envelopes are kept with their reason
    in bronze.rejected_envelopes and never stop the others.

    Exit codes: 0 every envelope loaded (or was already there), 1 some were rejected,
    2 unusable input (nothing to read, or a file that could not be read)."""
    from connectors.raw_import import discover, import_path

    if path.is_dir() and not discover(path):
        # before the database starts: a wrong folder is a usage error, not an empty import
        raise typer.BadParameter(
            f"no .json, .jsonl (or .gz) file under {path}", param_hint="'path'"
        )
    settings, url = setup()
    with psycopg.connect(url) as conn:
        report = import_path(conn, path, settings.pseudonym_key.get_secret_value())
    console.print(
        f"{report.files} files, {report.envelopes} envelopes: {report.loaded} loaded, "
        f"{report.duplicates} already in bronze, {report.rejected_total} rejected"
        + (
            f", {report.suppressed} suppressed (erased accounts, not stored)"
            if report.suppressed
            else ""
        )
    )
    for r in report.rejected[:show]:
        console.print(f"  [yellow]rejected[/] {escape(f'{r.file}:{r.line}: {r.reason}')}")
    hidden = report.rejected_total - min(show, len(report.rejected))
    if hidden > 0:
        console.print(
            f"  ... and {hidden} more: select * from bronze.rejected_envelopes order by rejected_at"
        )
    if report.skipped:
        console.print(
            f"  skipped {len(report.skipped)} files of other types: "
            + escape(", ".join(report.skipped[:10]))
            + (" ..." if len(report.skipped) > 10 else "")
        )
    for u in report.unreadable:
        err.print(f"[red]unreadable[/] {escape(f'{u.file}: {u.reason}')}")
    raise typer.Exit(report.exit_code)
