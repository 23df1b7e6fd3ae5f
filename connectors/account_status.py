"""What `analisa accounts list` and `analisa tasks` show and do, from the database alone."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

import psycopg

from connectors.outbox import schedule
from connectors.planner import PRIORITY_STALE
from connectors.tasks import CollectionTask, new_run_id


@dataclass(frozen=True)
class AccountStatus:
    platform: str
    account_id: str
    username: str | None
    kind: str
    """connected (OAuth token) or public (Business Discovery)."""
    last_success_at: datetime | None
    next_due_at: datetime | None
    pending_task_id: str | None
    needs_reauth: bool
    reauth_reason: str | None
    parked_reason: str | None


def account_statuses(conn: psycopg.Connection) -> list[AccountStatus]:
    rows = conn.execute(
        """
        select a.platform, a.account_id, a.username, coalesce(s.kind, 'connected'),
               s.last_success_at, s.next_due_at, s.pending_task_id,
               coalesce(s.needs_reauth, false), s.reauth_reason, s.parked_reason
        from ops.accounts a
        left join ops.account_state s using (platform, account_id)
        where a.active
        order by a.platform, a.username nulls last, a.account_id
        """
    ).fetchall()
    return [AccountStatus(*r) for r in rows]


@dataclass(frozen=True)
class ParkedTask:
    task_id: str
    platform: str
    account_id: str
    reason: str
    parked_at: datetime


def parked_tasks(conn: psycopg.Connection) -> list[ParkedTask]:
    rows = conn.execute(
        "select parked_task_id, platform, account_id, parked_reason, parked_at "
        "from ops.account_state where parked_task_id is not null order by parked_at"
    ).fetchall()
    return [ParkedTask(*r) for r in rows]


def replay(
    conn: psycopg.Connection,
    task_ids: list[str] | None = None,
    now: float | None = None,
) -> list[CollectionTask]:
    """Schedule a new round for parked accounts (all, or those of the given parked task ids).

    The parked mark is cleared in the same transaction; an account that needs to reconnect
    (`needs_reauth`) is replayed only once its token was stored again.
    """
    now = time.time() if now is None else now
    rows = conn.execute(
        "select platform, account_id, parked_task_id from ops.account_state "
        "where parked_task_id is not null and pending_task_id is null and not needs_reauth "
        "and (%(ids)s::text[] is null or parked_task_id = any(%(ids)s::text[])) "
        "order by parked_at for update",
        {"ids": task_ids or None},
    ).fetchall()
    run_id = f"replay-{new_run_id()}"
    scheduled = []
    for platform, account_id, _parked in rows:
        task = CollectionTask(platform, account_id, run_id, priority=PRIORITY_STALE)
        conn.execute(
            "update ops.account_state set parked_task_id = null, parked_reason = null, "
            "parked_at = null, checkpoint = null where platform = %s and account_id = %s",
            (platform, account_id),
        )
        schedule(conn, task, now)
        scheduled.append(task)
    return scheduled
