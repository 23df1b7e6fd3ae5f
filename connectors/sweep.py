"""The sweep: work published to the broker whose message was lost is published again.

An account's work is pending from the moment the planner (or a retry) writes its outbox row
until a worker commits the task's outcome. If the message never reaches a worker (a purged
queue, a broker that lost it, a publish the broker never confirmed), nothing else would ever
finish that work and the planner, which never schedules a second task for pending work,
would skip the account forever. The sweep finds such tasks and marks their outbox rows
unpublished again, so the relay (every worker runs one) publishes the same task once more.

A published task without an outcome is one of: queued in the broker, in progress (a worker
holds its account's lock, see connectors/collector.py), or lost. The sweep counts the ready
messages in the broker before it looks, and treats as lost only what exceeds that count, the
oldest first, and only tasks published longer ago than the bound
(`ANALISA_COLLECTION_SWEEP_AFTER_SECONDS`, 10 minutes by default) and not in progress. So a
task still queued or running is not published a second time; should a copy ever arrive
twice (a message delivered in the instant the sweep looked), the second delivery finds the
task's ledger row and acts on the recorded outcome: the task id is the same, records are
never written twice. One sweep at a time (an advisory lock); a second one returns at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg

log = logging.getLogger(__name__)

DEFAULT_SWEEP_AFTER_SECONDS = 600.0
_SWEEP_LOCK = 7419011

# Published tasks without an outcome, published before `%(asked)s` (when the broker's count
# was taken), with whether a worker holds the account's lock (the collector's session lock
# `collect:<platform>:<account>`, read from pg_locks: a bigint key is classid << 32 | objid).
_UNFINISHED = """
with held as (
    select (l.classid::bigint << 32) | l.objid::bigint as key
    from pg_locks l
    join pg_database d on d.oid = l.database
    where l.locktype = 'advisory' and l.granted and l.objsubid = 1
      and d.datname = current_database()
)
select o.task_id, o.platform, o.account_id,
       o.published_at < clock_timestamp() - make_interval(secs => %(bound)s) as old,
       hashtext('collect:' || o.platform || ':' || o.account_id)::bigint
           in (select key from held) as in_progress
from ops.account_state s
join ops.collection_outbox o on o.task_id = s.pending_task_id
where o.published_at is not null
  and o.published_at <= %(asked)s
  and not exists (select 1 from bronze.collection_ledger l where l.task_id = o.task_id)
order by o.published_at, o.task_id
for update of o skip locked
"""


@dataclass(frozen=True)
class SweepResult:
    swept: list[str] = field(default_factory=list)
    """Task ids made unpublished again: the relay publishes them on its next tick."""
    unfinished: int = 0
    """Published tasks without an outcome and not in progress (queued or lost)."""
    queued: int = 0
    """Messages ready in the broker when the sweep looked."""
    in_progress: int = 0
    """Published tasks a worker is collecting right now."""
    ran: bool = True
    """False when another sweep was under way (this one did nothing)."""


def sweep(
    db_url: str,
    *,
    older_than_seconds: float = DEFAULT_SWEEP_AFTER_SECONDS,
    queued: Callable[[], int] | None = None,
    limit: int = 500,
) -> SweepResult:
    """Mark lost published tasks unpublished again; returns what was found and swept.

    `queued` returns the ready messages in the work queue (the broker's count); None means no
    broker holds any (tasks run in-process).
    """
    with psycopg.connect(db_url) as conn:
        asked = conn.execute("select clock_timestamp()").fetchone()[0]
        conn.commit()
        in_broker = max(0, int(queued())) if queued is not None else 0
        with conn.transaction():
            got = conn.execute("select pg_try_advisory_xact_lock(%s)", (_SWEEP_LOCK,)).fetchone()
            if not got[0]:
                return SweepResult(queued=in_broker, ran=False)
            rows = conn.execute(
                _UNFINISHED, {"bound": max(0.0, older_than_seconds), "asked": asked}
            ).fetchall()
            waiting = [r for r in rows if not r[4]]
            in_progress = len(rows) - len(waiting)
            lost = max(0, len(waiting) - in_broker)
            chosen = [r[0] for r in waiting if r[3]][: min(lost, limit)]
            if chosen:
                conn.execute(
                    "update ops.collection_outbox set published_at = null, "
                    "swept_at = now(), sweeps = sweeps + 1 where task_id = any(%s)",
                    (chosen,),
                )
    result = SweepResult(chosen, len(waiting), in_broker, in_progress)
    if chosen:
        log.warning(
            "swept %d lost task(s) back to the outbox (%d published without an outcome, "
            "%d queued in the broker, %d in progress): %s",
            len(chosen),
            len(waiting),
            in_broker,
            in_progress,
            ", ".join(chosen[:20]) + (f" (+{len(chosen) - 20} more)" if len(chosen) > 20 else ""),
        )
    return result


def ready_messages(amqp_url: str, prefix: str) -> int:
    """Ready messages in `<prefix>.collect` (0 when the queue does not exist yet)."""
    import pika

    conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        channel = conn.channel()
        try:
            return channel.queue_declare(f"{prefix}.collect", passive=True).method.message_count
        except pika.exceptions.ChannelClosedByBroker as exc:
            if exc.reply_code == 404:  # never declared: nothing can be queued in it
                return 0
            raise
    finally:
        if conn.is_open:
            conn.close()
