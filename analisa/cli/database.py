"""`migrate`: the schemas every other command creates or updates first, on their own."""

from __future__ import annotations

from analisa.cli.runtime import console, setup


def migrate() -> None:
    """Create or update the database schemas (bronze, ops); safe to run again."""
    setup()
    console.print("database is up to date")
