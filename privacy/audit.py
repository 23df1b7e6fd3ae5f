"""The audit log (ops.audit_log): who did what to whose data, when, and how it ended.

A subject is written as its keyed pseudonym only; details hold counts and reasons, never an id,
a username or a token. The actor is the OS user running a command, or the API client id.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

ACTIONS = (
    "erase",
    "erase_requested",
    "subject_export",
    "suppression_lifted",
    "key_rotation",
)


def os_actor() -> str:
    """The OS user running this command (the person accountable for it)."""
    try:
        user = getpass.getuser()
    except Exception:  # no login name (some containers): the numeric uid still names someone
        user = f"uid:{os.getuid()}"
    return f"os:{user}"


def record(
    conn: psycopg.Connection,
    *,
    actor: str,
    action: str,
    outcome: str,
    subject: str | None = None,
    details: dict[str, Any] | None = None,
) -> int:
    """Append one entry in the caller's transaction; returns its id."""
    row = conn.execute(
        "insert into ops.audit_log (actor, action, subject, outcome, details) "
        "values (%s, %s, %s, %s, %s) returning audit_id",
        (actor[:200], action, subject, outcome, Jsonb(details or {})),
    ).fetchone()
    return int(row[0])


def record_now(db_url: str, **entry: Any) -> int:
    """One entry in its own transaction (after work done elsewhere, or work that failed)."""
    with psycopg.connect(db_url) as conn, conn.transaction():
        return record(conn, **entry)


@dataclass(frozen=True)
class Entry:
    audit_id: int
    at: datetime
    actor: str
    action: str
    subject: str | None
    outcome: str
    details: dict[str, Any]


def entries(conn: psycopg.Connection, limit: int = 50) -> list[Entry]:
    rows = conn.execute(
        "select audit_id, at, actor, action, subject, outcome, details from ops.audit_log "
        "order by audit_id desc limit %s",
        (limit,),
    ).fetchall()
    return [Entry(*row) for row in rows]
