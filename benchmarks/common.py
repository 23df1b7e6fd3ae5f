"""What the benchmarks share: the server they measure on, a scratch database, the result file.

Each benchmark creates its own database (dropped with the roles its migrations made, by
`analisa.core.db.drop_database`) and writes its result as JSON under benchmarks/results/, the
same JSON as the last line of its output."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import psycopg
from psycopg import sql

from analisa.core.db import with_database

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
RESULTS = Path(__file__).resolve().parent / "results"


def server_url() -> str:
    """The PostgreSQL server to measure on: DATABASE_URL, else the local default."""
    return os.environ.get("DATABASE_URL", DEFAULT_SERVER)


def create_database(server: str, label: str = "bench") -> tuple[str, str]:
    """A new empty database `analisa_<label>_<random>` on `server`: (name, URL)."""
    name = f"analisa_{label}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    return name, with_database(server, name)


def publish(result: dict, path: Path) -> dict:
    """Write the result as JSON to `path` and print it as the last line of output."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result))
    return result
