"""The `analisa` Typer app: global options and the table of commands (each lives in the module
of its group; registering them here keeps that table in one place)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Annotated

import typer

from analisa.cli import (
    accounts,
    accounts_list,
    brands,
    build,
    clients,
    data,
    database,
    docs,
    export,
    keys,
    metrics,
    privacy,
    retention,
    serve,
    similar,
    tasks,
    tokens,
    track,
    worker,
    workspaces,
)
from analisa.cli.runtime import console

HELP = """\
Analisa evaluates Instagram and TikTok influencers for brands: it collects what the platform
APIs say about creators, refines it through bronze, silver and gold tables behind quality
gates, and serves engagement and audience metrics through SQL, an API and Parquet files.

First steps:

* analisa demo: the whole pipeline on a local sandbox, with no account and no set-up

* analisa serve: browse the API (/docs) and the Dagster UI over what demo built

* analisa connect instagram, then analisa collect: real creators (needs a registered app)

Every command takes --help. Settings are environment variables (see .env.example).
"""

app = typer.Typer(
    name="analisa",
    help=HELP,
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode="markdown",
)


def package_version() -> str:
    try:
        return version("analisa")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


def _print_version(value: bool) -> None:
    if value:
        console.print(f"analisa {package_version()}", highlight=False)
        raise typer.Exit()


@app.callback()
def main(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print the version of Analisa and exit.",
        ),
    ] = False,
) -> None:
    """Global options; the work is in the commands."""


START = "Start here"
BUILD = "Build the data"
ACCOUNTS = "Real accounts"
SERVE = "Serve and explore"
ADMIN = "Maintenance"

app.command(rich_help_panel=START)(build.demo)
app.command(rich_help_panel=BUILD)(data.ingest)
app.command(rich_help_panel=BUILD)(build.pipeline)
app.command(rich_help_panel=BUILD)(build.collect)
app.command(rich_help_panel=ACCOUNTS)(accounts.connect)
app.command(rich_help_panel=BUILD)(worker.worker)
app.add_typer(accounts_list.app, name="accounts", rich_help_panel=ACCOUNTS)
app.add_typer(tasks.app, name="tasks", rich_help_panel=ACCOUNTS)
app.add_typer(track.app, name="track", rich_help_panel=ACCOUNTS)
app.add_typer(keys.app, name="keys", rich_help_panel=ADMIN)
app.add_typer(retention.app, name="retention", rich_help_panel=ADMIN)
app.command(rich_help_panel=SERVE)(serve.serve)
app.command(rich_help_panel=SERVE)(serve.sandbox)
app.command(rich_help_panel=ADMIN)(database.migrate)
app.add_typer(database.app, name="db", rich_help_panel=SERVE)
app.command(rich_help_panel=SERVE)(export.export)
app.command(rich_help_panel=SERVE)(docs.docs)
app.command(rich_help_panel=SERVE)(metrics.metrics)
app.command(rich_help_panel=SERVE)(similar.similar)
BRANDS = "Brands"
app.add_typer(brands.app, name="brands", rich_help_panel=BRANDS)
API_ACCESS = "API access"
app.command(rich_help_panel=API_ACCESS)(tokens.token)
app.add_typer(workspaces.app, name="workspace", rich_help_panel=API_ACCESS)
app.add_typer(clients.app, name="clients", rich_help_panel=API_ACCESS)
PRIVACY = "Privacy"
app.command(rich_help_panel=PRIVACY)(privacy.erase)
app.command("subject-export", rich_help_panel=PRIVACY)(privacy.subject_export)
app.command(rich_help_panel=PRIVACY)(privacy.audit)
