"""`ingest`: raw API responses you already hold go into bronze like collected ones."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import psycopg
import typer
from rich.markup import escape

from analisa.cli.runtime import console, setup


def ingest(
    path: Annotated[
        Path,
        typer.Argument(exists=True, readable=True, help="A .json/.jsonl file or a folder of them."),
    ],
    strict: Annotated[bool, typer.Option(help="Exit 1 when any envelope is rejected.")] = False,
) -> None:
    """Load raw API responses (envelopes) into bronze; bad envelopes are kept and reported."""
    from connectors.raw_import import discover, import_path

    if path.is_dir() and not discover(path):
        # before the database starts: a wrong folder is a usage error, not an empty import
        raise typer.BadParameter(f"no .json or .jsonl file under {path}", param_hint="'path'")
    _, url = setup()
    with psycopg.connect(url) as conn:
        report = import_path(conn, path)
    console.print(
        f"{report.files} files, {report.envelopes} envelopes: {report.loaded} loaded, "
        f"{report.duplicates} already in bronze, {len(report.rejected)} rejected"
    )
    for r in report.rejected:
        console.print(f"  [yellow]rejected[/] {escape(f'{r.file}:{r.line}: {r.reason}')}")
    if strict and report.rejected:
        raise typer.Exit(1)
