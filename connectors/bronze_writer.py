"""Append raw records to bronze with COPY, once each.

COPY into a temporary table, then one INSERT ... ON CONFLICT DO NOTHING on the envelope hash:
bulk speed, and loading the same response twice changes nothing. The caller owns the
transaction, so a collection task can commit its records and its ledger row together.
Records of accounts on the suppression list (erased at their owner's request) are dropped
inside that transaction, under the suppression lock (connectors/suppression.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import psycopg

from connectors import suppression
from connectors.records import RawRecord

_COLUMNS = (
    "record_hash",
    "content_hash",
    "platform",
    "endpoint",
    "account_id",
    "object_id",
    "round_id",
    "fetched_at",
    "http_status",
    "body",
    "body_text",
    "parse_error",
    "request",
    "source",
    "task_id",
)


def _month_start(ts: datetime) -> datetime:
    ts = ts.astimezone(UTC)
    return datetime(ts.year, ts.month, 1, tzinfo=UTC)


def _next_month(ts: datetime) -> datetime:
    return datetime(ts.year + ts.month // 12, ts.month % 12 + 1, 1, tzinfo=UTC)


def ensure_partitions(conn: psycopg.Connection, months: Iterable[datetime]) -> None:
    """Create the monthly partitions of bronze.raw_records these capture months need.

    Writers racing to create the same new month serialise on an advisory lock held until
    their commit; the common case (the month exists) takes no lock at all.
    """
    for start in sorted({_month_start(m) for m in months}):
        name = f"raw_records_{start:%Y_%m}"
        if conn.execute("select to_regclass(%s)", (f"bronze.{name}",)).fetchone()[0]:
            continue
        conn.execute("select pg_advisory_xact_lock(7419002)")
        conn.execute(
            f"create table if not exists bronze.{name} partition of bronze.raw_records "
            f"for values from ('{start.isoformat()}') to ('{_next_month(start).isoformat()}')"
        )


def _row(record: RawRecord) -> tuple:
    # Postgres jsonb refuses \u0000: such a body is kept verbatim in body_text instead.
    as_json = record.parse_error is None and "\\u0000" not in record.body_text
    return (
        record.record_hash,
        record.content_hash,
        record.platform,
        record.endpoint,
        record.account_id,
        record.object_id,
        record.round_id,
        record.fetched_at,
        record.status,
        record.body_text if as_json else None,  # valid JSON text: PostgreSQL parses it once
        None if as_json else record.body_text,
        record.parse_error,
        record.request,
        record.source,
        record.task_id,
    )


def write_records(
    conn: psycopg.Connection,
    records: Iterable[RawRecord],
    *,
    pseudonym_key: str | None = None,
    counts: dict[str, int] | None = None,
) -> int:
    """Append records to bronze; returns how many were new (duplicates are skipped).

    Records of suppressed accounts are not stored; their number is added to
    `counts["suppressed"]` when `counts` is given. `pseudonym_key` defaults to the settings'.
    """
    records = list(records)
    if not records:
        return 0
    if pseudonym_key is None:
        from analisa.core.settings import get_settings

        pseudonym_key = get_settings().pseudonym_key.get_secret_value()
    records, dropped = suppression.filter_records(suppression.load(conn, pseudonym_key), records)
    if counts is not None:
        counts["suppressed"] = counts.get("suppressed", 0) + dropped
    unique: dict[str, tuple] = {}
    for record in records:
        unique.setdefault(record.record_hash, _row(record))  # the first of equal envelopes
    if not unique:
        return 0
    rows = list(unique.values())
    ensure_partitions(conn, [row[7] for row in rows])
    cols = ", ".join(_COLUMNS)
    conn.execute(
        f"create temporary table if not exists _bronze_load on commit drop "
        f"as select 0::bigint as load_order, {cols} from bronze.raw_records with no data"
    )
    with conn.cursor().copy(f"copy _bronze_load (load_order, {cols}) from stdin") as copy:
        for n, row in enumerate(rows):
            copy.write_row((n, *row))
    # record_id follows the order records were received in
    cur = conn.execute(
        f"insert into bronze.raw_records ({cols}) "
        f"select {cols} from _bronze_load order by load_order "
        "on conflict (record_hash, fetched_at) do nothing"
    )
    inserted = cur.rowcount
    conn.execute("truncate _bronze_load")
    return inserted
