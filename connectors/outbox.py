"""Scheduled tasks (the outbox): written in the transaction that decides them, published after.

A retry is decided with the ledger row of the task that failed and stored here in the same
transaction, so no crash can lose it: the relay publishes the rows whose time has come and
marks them published. A crash between publish and mark publishes a row twice; the second
delivery finds the task's ledger row and changes nothing. Delays of any length (a 24 h block)
are rows waiting here, not messages expiring in a broker queue, and a task is published within
one relay tick of its due time.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime

import psycopg

from connectors.tasks import CollectionTask

log = logging.getLogger(__name__)

Publish = Callable[[CollectionTask], None]


def ts(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


def schedule(
    conn: psycopg.Connection,
    task: CollectionTask,
    not_before: float,
    caused_by: str | None = None,
) -> bool:
    """Store a task to publish at `not_before` (epoch s); False when it was stored already.

    Marks the account's work pending, so the planner never schedules a second task for it.
    """
    cur = conn.execute(
        "insert into ops.collection_outbox "
        "(task_id, platform, account_id, message, priority, not_before, caused_by) "
        "values (%s, %s, %s, %s, %s, %s, %s) on conflict (task_id) do nothing",
        (
            task.task_id,
            task.platform,
            task.account_id,
            json.dumps(asdict(task)),
            task.priority,
            ts(not_before),
            caused_by,
        ),
    )
    conn.execute(
        "insert into ops.account_state (platform, account_id, pending_task_id, pending_since) "
        "values (%s, %s, %s, %s) on conflict (platform, account_id) do update set "
        "pending_task_id = excluded.pending_task_id, "
        "pending_since = coalesce(ops.account_state.pending_since, excluded.pending_since)",
        (task.platform, task.account_id, task.task_id, ts(not_before)),
    )
    return cur.rowcount == 1


def publish_due(db_url: str, publish: Publish, now: float, limit: int = 500) -> int:
    """Publish the tasks due at `now` (epoch s), oldest first; returns how many.

    Rows are locked with SKIP LOCKED, so any number of relays (one per worker) share the work.
    The publish happens before the mark commits: a crash in between republishes, never loses.
    """
    with psycopg.connect(db_url) as conn, conn.transaction():
        rows = conn.execute(
            "select task_id, message from ops.collection_outbox "
            "where published_at is null and not_before <= %s "
            "order by not_before, priority desc limit %s for update skip locked",
            (ts(now), limit),
        ).fetchall()
        for _, message in rows:
            publish(CollectionTask(**message))
        if rows:
            conn.execute(
                "update ops.collection_outbox set published_at = now() where task_id = any(%s)",
                ([r[0] for r in rows],),
            )
    return len(rows)


def next_due(db_url: str) -> float | None:
    """Epoch seconds of the earliest unpublished task, None when nothing is scheduled."""
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "select extract(epoch from min(not_before)) from ops.collection_outbox "
            "where published_at is null"
        ).fetchone()
    return float(row[0]) if row and row[0] is not None else None


def pending_work(db_url: str) -> int:
    """Accounts with work scheduled or published and not finished."""
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "select count(*) from ops.account_state where pending_task_id is not null"
        ).fetchone()
    return int(row[0])


def in_flight(db_url: str) -> int:
    """Accounts whose pending task was published and has not finished (queued or running)."""
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "select count(*) from ops.account_state s join ops.collection_outbox o "
            "on o.task_id = s.pending_task_id where o.published_at is not null"
        ).fetchone()
    return int(row[0])


def others_due(db_url: str, platform: str, account_id: str, now: float) -> bool:
    """Whether another account of `platform` has work due at `now` (epoch s) that no worker is
    collecting: a round that shares a tight limit with it gives its worker up (round-robin)."""
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            """
            select exists (
                select 1
                from ops.account_state s
                join ops.collection_outbox o on o.task_id = s.pending_task_id
                where s.platform = %(platform)s and s.account_id <> %(account)s
                  and o.not_before <= %(now)s
                  and not exists (
                      select 1 from bronze.collection_ledger l where l.task_id = o.task_id
                  )
                  and not exists (  -- its account's collector lock (connectors/collector.py)
                      select 1 from pg_locks l
                      where l.locktype = 'advisory' and l.granted and l.objsubid = 1
                        and l.database = (
                            select oid from pg_database where datname = current_database()
                        )
                        and (l.classid::bigint << 32) | l.objid::bigint
                            = hashtext('collect:' || o.platform || ':' || o.account_id)::bigint
                  )
            )
            """,
            {"platform": platform, "account": account_id, "now": ts(now)},
        ).fetchone()
    return bool(row[0])
