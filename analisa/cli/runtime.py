"""What every command shares: the terminal, settings, logging, the database (embedded when
DATABASE_URL is unset, migrated before use) and the Dagster home."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import typer
from rich.console import Console

from analisa.core.db import migrate, resolve_database_url
from analisa.core.logging import configure_from_settings
from analisa.core.settings import Settings, SettingsError, get_settings

console = Console(stderr=False)
err = Console(stderr=True)


def load_settings() -> Settings:
    """Fresh settings from the environment; invalid ones end the command with their message
    (variable names and problems, never values) instead of a traceback."""
    get_settings.cache_clear()
    try:
        return get_settings()
    except SettingsError as exc:
        raise fail(str(exc)) from None


def setup() -> tuple[Settings, str]:
    """Settings, logging and a migrated database; an embedded server when DATABASE_URL is unset.

    The resolved URL is exported so every process started from here (dbt, Dagster steps,
    the API) reaches the same server, and only this process owns the embedded one.
    """
    settings = load_settings()
    # the terminal shows progress and a summary: below warnings only when asked for
    configure_from_settings(
        settings, level=settings.log_level if settings.log_level != "INFO" else "WARNING"
    )
    if not settings.database_url:
        with console.status("Starting embedded PostgreSQL under " + str(settings.home) + " ..."):
            url = resolve_database_url(settings)
        os.environ["DATABASE_URL"] = url
    else:
        url = resolve_database_url(settings)
        try:
            psycopg.connect(url, connect_timeout=10).close()
        except psycopg.OperationalError as exc:
            # libpq's reason names host and port, never the password
            raise fail(f"Cannot reach the database of DATABASE_URL: {exc}".strip()) from None
    os.environ.setdefault("DAGSTER_HOME", str((settings.home / "dagster").resolve()))
    dagster_home = Path(os.environ["DAGSTER_HOME"])
    dagster_home.mkdir(parents=True, exist_ok=True)
    # an empty instance file: default local storage, so the UI of `analisa serve` shows CLI runs
    (dagster_home / "dagster.yaml").touch(exist_ok=True)
    migrate(url)
    return load_settings(), url


def dagster_instance():
    """The instance under DAGSTER_HOME (imported late: Dagster takes seconds to import)."""
    import dagster as dg

    return dg.DagsterInstance.get()


def log_path() -> Path:
    """Where dbt's and Dagster's own output goes; the terminal gets progress and a summary."""
    return get_settings().home / "logs" / "pipeline.log"


@contextmanager
def step(title: str) -> Iterator[None]:
    """A spinner while the step runs, a check mark once it is done."""
    with console.status(title):
        yield
    console.print(f"[green]✓[/] {title.rstrip('. ')}")


def fail(message: str, code: int = 1, style: str | None = None) -> typer.Exit:
    """Print why the command stops (plain text: messages may hold brackets) and its exit."""
    # soft_wrap: the terminal wraps; variable names and URLs stay whole for tests and copying
    err.print(message, style=style, markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(code)
