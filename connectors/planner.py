"""Which accounts need collecting, and in what order: the planner's one query.

Never-collected accounts first, then the stalest (overdue by more than one interval), then
routine ones; an account whose work is pending (scheduled, queued or running), parked, or
waiting for its owner to reconnect (`needs_reauth`) gets no task. Planning writes outbox rows
(connectors/outbox.py) and marks the accounts pending in one transaction, under one advisory
lock, so two planners never schedule the same account twice.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from connectors.outbox import schedule, ts
from connectors.tasks import CollectionTask

PRIORITY_NEVER_COLLECTED = 9
PRIORITY_STALE = 7
PRIORITY_ROUTINE = 5
_PLANNER_LOCK = 7419010


@dataclass(frozen=True)
class Planned:
    task: CollectionTask
    why: str
    """never-collected, stale or routine."""


def plan(
    db_url: str,
    run_id: str,
    now: float,
    *,
    platforms: tuple[str, ...] | None = None,
    due_only: bool = True,
    interval_seconds: float = 6 * 3600,
    limit: int | None = None,
) -> list[Planned]:
    """Schedule a task, due now, for each account that needs one; returns what was scheduled.

    `due_only` False plans every eligible account now (an explicit `collect`), still never
    one whose work is pending.
    """
    with psycopg.connect(db_url) as conn, conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s)", (_PLANNER_LOCK,))
        rows = conn.execute(
            """
            select a.platform, a.account_id, s.last_success_at is null as never,
                   coalesce(s.next_due_at < %(now)s - make_interval(secs => %(interval)s), false)
                       as stale
            from ops.accounts a
            left join ops.account_state s using (platform, account_id)
            where a.active
              and (%(platforms)s::text[] is null or a.platform = any(%(platforms)s::text[]))
              and s.pending_task_id is null
              and s.parked_task_id is null
              and not coalesce(s.needs_reauth, false)
              and (not %(due_only)s or s.next_due_at is null or s.next_due_at <= %(now)s)
            order by (s.last_success_at is null) desc, s.next_due_at nulls first,
                     a.platform, a.account_id
            limit %(limit)s
            """,
            {
                "now": ts(now),
                "interval": interval_seconds,
                "platforms": list(platforms) if platforms else None,
                "due_only": due_only,
                "limit": limit,
            },
        ).fetchall()
        planned = []
        for platform, account_id, never, stale in rows:
            if never:
                priority, why = PRIORITY_NEVER_COLLECTED, "never-collected"
            elif stale:
                priority, why = PRIORITY_STALE, "stale"
            else:
                priority, why = PRIORITY_ROUTINE, "routine"
            task = CollectionTask(platform, account_id, run_id, priority=priority)
            schedule(conn, task, now)
            planned.append(Planned(task, why))
    return planned


def republish_unfinished(db_url: str) -> int:
    """Mark published-but-unfinished tasks unpublished again (an in-process queue died with
    them); the ledger makes a task that did finish a no-op if both copies ever run."""
    with psycopg.connect(db_url) as conn, conn.transaction():
        cur = conn.execute(
            "update ops.collection_outbox o set published_at = null "
            "where published_at is not null and not exists "
            "(select 1 from bronze.collection_ledger l where l.task_id = o.task_id)"
        )
        return cur.rowcount
