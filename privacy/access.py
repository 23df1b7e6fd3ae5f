"""The right of access (`analisa subject-export`): everything held about one person, as JSON.

Rows of every table that holds them (found the way erasure finds them: privacy/scan.py),
grouped by schema.table, whole, bronze bodies included. Secrets never leave: OAuth token
ciphertexts and any other binary column are replaced by a note saying a value exists.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import psycopg

from analisa.core.clock import utcnow
from analisa.core.crypto import pseudonymise
from connectors.suppression import subject_pseudonym
from privacy import audit
from privacy.database import post_ids_of, rows_about, usernames_of
from privacy.scan import Subject
from privacy.tables import discover

REDACTED_SECRET = "[redacted: a secret is held here and is not exported]"


def _plain(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return REDACTED_SECRET
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def collect(
    conn: psycopg.Connection,
    platform: str,
    account_id: str,
    usernames: tuple[str, ...] = (),
    key: str | None = None,
) -> dict[str, Any]:
    tables = discover(conn)
    names = tuple(sorted({*usernames, *usernames_of(conn, tables, platform, account_id)}))
    aliases = tuple(sorted({pseudonymise(n.lower(), key) for n in names})) if key else ()
    subject = Subject(platform, account_id, names)
    posts = frozenset(post_ids_of(conn, tables, subject))
    subject = Subject(platform, account_id, names, posts, aliases)
    found = rows_about(conn, subject, tables)
    secret_columns: dict[str, set[str]] = {}
    for t in tables:
        secret_columns.setdefault(t.display, set()).update(
            c.name for c in t.columns if c.kind == "bytes"
        )
    out_tables: dict[str, Any] = {}
    for name, rows in sorted(found.items()):
        secrets = secret_columns.get(name, set())
        out_tables[name] = [
            {
                k: (REDACTED_SECRET if k in secrets and v is not None else _plain(v))
                for k, v in row.items()
            }
            for row in rows
        ]
    return {
        "platform": platform,
        "account_id": account_id,
        "usernames": list(names),
        "generated_at": utcnow().isoformat(),
        "notes": [
            "Every row of every table that holds this account, as stored; raw platform "
            "answers (bronze) included.",
            "OAuth tokens are held encrypted; they exist where a table says so and are never "
            "exported.",
        ],
        "row_counts": {name: len(rows) for name, rows in out_tables.items()},
        "tables": out_tables,
    }


def export(
    db_url: str,
    key: str,
    platform: str,
    account_id: str,
    *,
    actor: str,
    usernames: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The export, audited (the audit entry holds the pseudonym and the row counts only)."""
    with psycopg.connect(db_url) as conn, conn.transaction():
        conn.execute("set transaction isolation level repeatable read, read only")
        data = collect(conn, platform, account_id, usernames, key)
    audit.record_now(
        db_url,
        actor=actor,
        action="subject_export",
        subject=subject_pseudonym(platform, account_id, key),
        outcome="ok" if data["tables"] else "nothing",
        details={
            "platform": platform,
            "tables": len(data["tables"]),
            "rows": sum(data["row_counts"].values()),
        },
    )
    return data


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str)
