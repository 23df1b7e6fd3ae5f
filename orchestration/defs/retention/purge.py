"""Retention: raw bronze past its period is deleted once silver holds what was derived from it.

The rule (docs/privacy.md, README "What is kept, and for how long"):

- `bronze.raw_records`: a record goes when it was ingested more than
  ANALISA_BRONZE_RETENTION_DAYS ago AND more than the staging lookback (one hour,
  macros/incremental.sql) before the start of the newest silver build that the silver gate
  accepted. Every silver model that reads bronze is incremental and keeps what it read, so such
  a record is already in silver, or was read and had nothing to give (an error answer). Without
  an accepted silver build nothing is purged.
- `bronze.rejected_envelopes`: import lines that could not be loaded are never read by silver;
  they are kept ANALISA_REJECTED_RETENTION_DAYS for someone to look at and re-import, then go.

Deletes go in batches, each its own short transaction, so a large bronze is purged without a
long lock and a purge stopped half-way keeps what it did. Each purge is recorded per table in
ops.retention_purges (migration 011). After a purge, dbt refuses to rebuild silver from bronze
(macros/retention.sql).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg

from analisa.core.clock import Clock, utcnow

RAW_RECORDS = "bronze.raw_records"
REJECTED_ENVELOPES = "bronze.rejected_envelopes"
# The incremental staging models re-read this much before their newest row (macros/incremental.sql).
STAGING_LOOKBACK = timedelta(hours=1)


@dataclass(frozen=True)
class RetentionPolicy:
    bronze_days: int = 90
    rejected_days: int = 30
    batch_rows: int = 10_000

    def __post_init__(self) -> None:
        if self.bronze_days < 1 or self.rejected_days < 1:
            raise ValueError("retention periods are at least one day")
        if self.batch_rows < 1:
            raise ValueError("the batch size is at least one row")

    @classmethod
    def from_settings(cls, settings) -> RetentionPolicy:
        return cls(
            bronze_days=settings.bronze_retention_days,
            rejected_days=settings.rejected_retention_days,
            batch_rows=settings.retention_batch_rows,
        )


@dataclass(frozen=True)
class TablePurge:
    table: str
    period_days: int
    cutoff: datetime | None
    """Rows ingested (rejected) before this go; None when nothing may go yet."""
    reason: str
    """Which bound made the cutoff, in words."""
    rows: int
    """Rows deleted (on a dry run: rows that would be)."""
    silver_through: datetime | None = None


@dataclass(frozen=True)
class PurgeReport:
    purge_id: str
    dry_run: bool
    tables: tuple[TablePurge, ...]

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)

    def metadata(self) -> dict[str, object]:
        """Flat values for a Dagster materialization and for the CLI's summary."""
        out: dict[str, object] = {"purge_id": self.purge_id, "dry_run": self.dry_run}
        for t in self.tables:
            out[f"{t.table} rows"] = t.rows
            out[f"{t.table} cutoff"] = t.cutoff.isoformat() if t.cutoff else "none"
            out[f"{t.table} why"] = t.reason
        return out


def silver_accepted_through(conn: psycopg.Connection) -> datetime | None:
    """The start of the newest silver build the silver gate accepted: the newest recorded build
    that started before the gate's last acceptance (ops.silver_builds, ops.gate_row_counts).
    An erasure also writes baselines there (run id "erasure", privacy/database.py), which accept
    no build."""
    row = conn.execute(
        """
        select max(b.started_at)
        from ops.silver_builds b
        where b.started_at <= (
            select max(g.recorded_at) from ops.gate_row_counts g
            where g.layer = 'silver' and g.run_id is distinct from 'erasure'
        )
        """
    ).fetchone()
    return row[0] if row else None


def raw_records_cutoff(
    conn: psycopg.Connection, policy: RetentionPolicy, now: datetime
) -> tuple[datetime | None, str, datetime | None]:
    """(cutoff, why, silver build start) for bronze.raw_records."""
    by_period = now - timedelta(days=policy.bronze_days)
    silver_start = silver_accepted_through(conn)
    if silver_start is None:
        return None, "no silver build accepted by the silver gate yet", None
    by_silver = silver_start - STAGING_LOOKBACK
    if by_silver < by_period:
        why = (
            f"silver: the last accepted silver build started {silver_start.isoformat()}, "
            f"minus the {STAGING_LOOKBACK} staging lookback"
        )
        return by_silver, why, silver_start
    return by_period, f"period: ingested more than {policy.bronze_days} days ago", silver_start


def purged_history(conn: psycopg.Connection) -> tuple[int, datetime] | None:
    """(records purged, newest cutoff) when retention has deleted raw bronze (or a purge may
    have and did not finish): silver can no longer be rebuilt from bronze without losing them.
    The same question dbt asks before a rebuild (macros/retention.sql)."""
    row = conn.execute(
        "select count(*), coalesce(sum(rows_deleted), 0), max(cutoff) from ops.retention_purges"
        " where table_name = %s and not dry_run and cutoff is not null"
        " and (rows_deleted > 0 or finished_at is null)",
        (RAW_RECORDS,),
    ).fetchone()
    return (row[1], row[2]) if row[0] else None


def refused_rebuild_message(records: int, cutoff: datetime) -> str:
    return (
        f"Refusing a full refresh: retention purged {records} bronze records ingested before "
        f"{cutoff.astimezone(UTC).isoformat()} (ops.retention_purges), and rebuilding silver "
        "from bronze would silently lose every row derived from them. Build incrementally "
        "(without --full-refresh)."
    )


def _count(conn: psycopg.Connection, table: str, column: str, cutoff: datetime) -> int:
    return conn.execute(
        f"select count(*) from {table} where {column} < %s",  # constants, not input
        (cutoff,),
    ).fetchone()[0]


# Batches are picked by physical row address within one table, so each delete is a tid scan of
# rows just found through the ingestion-time index; rows someone else holds locked are left to
# the next run rather than waited for. Bronze is partitioned: one partition at a time.
_DELETE_BATCH = """
    delete from {table}
    where ctid = any(array(
        select ctid from {table}
        where {column} < %(cutoff)s
        limit %(batch)s
        for update skip locked
    ))
"""


def _partitions(conn: psycopg.Connection, table: str) -> list[str]:
    """The leaf tables holding `table`'s rows (itself when it is not partitioned)."""
    rows = conn.execute(
        "select relid::regclass::text from pg_partition_tree(%s::regclass) where isleaf",
        (table,),
    ).fetchall()
    return [r[0] for r in rows] or [table]


def _delete_in_batches(
    url: str, table: str, column: str, cutoff: datetime, batch: int, purge_id: str
) -> int:
    """Delete until every leaf table's batch comes back short. Each batch commits on its own,
    with the running total in ops.retention_purges, so a purge stopped half-way says exactly
    what it deleted and never holds a lock for longer than one batch."""
    total = 0
    with psycopg.connect(url, autocommit=True) as conn:
        # a batch waits for no lock longer than this; the next run picks up what it left
        conn.execute("set lock_timeout = '10s'")
        for leaf in _partitions(conn, table):
            statement = _DELETE_BATCH.format(table=leaf, column=column)  # catalog names
            while True:
                with conn.transaction():
                    deleted = conn.execute(statement, {"cutoff": cutoff, "batch": batch}).rowcount
                    conn.execute(
                        "update ops.retention_purges set rows_deleted = rows_deleted + %s"
                        " where purge_id = %s and table_name = %s",
                        (deleted, purge_id, table),
                    )
                total += deleted
                if deleted < batch:
                    break
    return total


def _record_start(conn: psycopg.Connection, purge_id: str, t: TablePurge, dry_run: bool, run_id):
    conn.execute(
        "insert into ops.retention_purges (purge_id, table_name, period_days, cutoff,"
        " silver_through, dry_run, run_id) values (%s, %s, %s, %s, %s, %s, %s)",
        (purge_id, t.table, t.period_days, t.cutoff, t.silver_through, dry_run, run_id),
    )


def _record_end(conn: psycopg.Connection, purge_id: str, table: str, rows: int) -> None:
    conn.execute(
        "update ops.retention_purges set rows_deleted = %s, finished_at = now()"
        " where purge_id = %s and table_name = %s",
        (rows, purge_id, table),
    )


def purge(
    url: str,
    policy: RetentionPolicy,
    *,
    dry_run: bool = False,
    run_id: str | None = None,
    clock: Clock = utcnow,
    log: Callable[[str], None] | None = None,
) -> PurgeReport:
    """Purge (or, on a dry run, count) what retention lets go, and record it."""
    now = clock()
    purge_id = uuid.uuid4().hex
    planned: list[tuple[TablePurge, str]] = []
    with psycopg.connect(url, autocommit=True) as conn:
        cutoff, why, silver_start = raw_records_cutoff(conn, policy, now)
        planned.append(
            (
                TablePurge(RAW_RECORDS, policy.bronze_days, cutoff, why, 0, silver_start),
                "ingested_at",
            )
        )
        planned.append(
            (
                TablePurge(
                    REJECTED_ENVELOPES,
                    policy.rejected_days,
                    now - timedelta(days=policy.rejected_days),
                    f"period: rejected more than {policy.rejected_days} days ago",
                    0,
                ),
                "rejected_at",
            )
        )
        # recorded before deleting: a purge that dies half-way still shows it began (and dbt
        # refuses a rebuild as soon as rows may be gone)
        for table, _ in planned:
            _record_start(conn, purge_id, table, dry_run, run_id)

    done = []
    for table, column in planned:
        if table.cutoff is None:
            rows = 0
        elif dry_run:
            with psycopg.connect(url) as conn:
                rows = _count(conn, table.table, column, table.cutoff)
        else:
            rows = _delete_in_batches(
                url, table.table, column, table.cutoff, policy.batch_rows, purge_id
            )
        with psycopg.connect(url, autocommit=True) as conn:
            _record_end(conn, purge_id, table.table, rows)
        if log:
            verb = "would delete" if dry_run else "deleted"
            cut = table.cutoff.isoformat() if table.cutoff else "nothing purgeable"
            log(f"{table.table}: {verb} {rows} rows (cutoff {cut}; {table.reason})")
        done.append(
            TablePurge(
                table.table,
                table.period_days,
                table.cutoff,
                table.reason,
                rows,
                table.silver_through,
            )
        )
    return PurgeReport(purge_id, dry_run, tuple(done))
