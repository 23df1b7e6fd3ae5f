"""Retention purge of a large bronze: throughput, and how long any row stays locked.

Fills bronze.raw_records (in a database of its own on DATABASE_URL, default local PostgreSQL)
with media pages over six months, two thirds of them loaded 200 days ago, marks a silver build
as accepted, and purges with the code behind the daily job (`orchestration/defs/retention`).
While it runs, a contender repeatedly locks one of the rows about to go, as an erasure or any
other writer touching old rows would, and records how long it waited. The same data is then
purged by one plain DELETE, with the same contender, in the same run: the ratio of the longest
waits is what batching buys. Drops the database. Last line of output: one JSON object (also
written to benchmarks/results/retention_purge.json).

`--quick` uses 120 000 rows (default 1 200 000).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from analisa.core.db import drop_database, migrate
from benchmarks.common import create_database, publish, server_url
from connectors.bronze_writer import ensure_partitions
from orchestration.defs.retention.purge import RetentionPolicy, purge

RESULTS = Path(__file__).resolve().parent / "results" / "retention_purge.json"
MONTHS = [datetime(2026, m, 1, tzinfo=UTC) for m in range(5, 11)]


def fill(url: str, rows: int, now: datetime) -> int:
    """`rows` media pages (about 1.5 kB of JSON each); returns how many are past the period."""
    body = json.dumps(
        {
            "data": [
                {
                    "id": f"1790000000000{j:04d}",
                    "caption": "Treino de hoje #fitness " * 3,
                    "media_type": "IMAGE",
                    "like_count": 100 + j,
                    "comments_count": j,
                }
                for j in range(10)
            ]
        }
    )
    old = rows * 2 // 3
    with psycopg.connect(url) as conn:
        ensure_partitions(conn, MONTHS)
        conn.execute(
            """
            insert into bronze.raw_records (record_hash, content_hash, platform, endpoint,
                account_id, round_id, fetched_at, http_status, body, source, ingested_at)
            select md5(g::text || %(salt)s), md5(g::text), 'instagram', 'media',
                '1784' || lpad((g %% 2000)::text, 8, '0'), 'r' || g,
                %(first)s + (g %% (180 * 24)) * interval '1 hour', 200, %(body)s::jsonb,
                'benchmark', case when g <= %(old)s then %(long_ago)s else %(recent)s end
            from generate_series(1, %(rows)s) as g
            """,
            {
                "salt": uuid.uuid4().hex,
                "first": MONTHS[0],
                "body": body,
                "old": old,
                "rows": rows,
                "long_ago": now - timedelta(days=200),
                "recent": now - timedelta(days=5),
            },
        )
        conn.execute("analyze bronze.raw_records")
    return old


def accept_silver(url: str, now: datetime) -> None:
    with psycopg.connect(url) as conn:
        conn.execute(
            "insert into ops.silver_builds (invocation_id, started_at) values (%s, %s)",
            (uuid.uuid4().hex, now - timedelta(minutes=5)),
        )
        conn.execute(
            "insert into ops.gate_row_counts (layer, table_name, row_count) values"
            " ('silver', 'silver.int_posts', 1)"
        )


class Contender(threading.Thread):
    """Locks one still-present old row after another; records each wait for the lock."""

    def __init__(self, url: str, cutoff: datetime) -> None:
        super().__init__(daemon=True)
        self.url, self.cutoff = url, cutoff
        self.ready, self.go, self.stop = threading.Event(), threading.Event(), threading.Event()
        self.waits: list[float] = []

    def run(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            # the candidates, read once: the contender then only waits on locks, never scans
            hashes = [
                r[0]
                for r in conn.execute(
                    "select record_hash from bronze.raw_records where ingested_at < %s"
                    " order by random() limit 5000",
                    (self.cutoff,),
                )
            ]
            self.ready.set()
            self.go.wait()
            for record_hash in hashes:
                if self.stop.is_set():
                    return
                started = time.perf_counter()
                with conn.transaction():
                    conn.execute(
                        "select 1 from bronze.raw_records where record_hash = %s for update",
                        (record_hash,),
                    )
                self.waits.append(time.perf_counter() - started)
                self.stop.wait(0.002)


def _timed(url: str, action, cutoff: datetime) -> tuple[float, Contender]:
    contender = Contender(url, cutoff)
    contender.start()
    contender.ready.wait()  # it has read its candidates: from here on it only takes locks
    contender.go.set()
    started = time.perf_counter()
    action()
    seconds = time.perf_counter() - started
    contender.stop.set()
    contender.join()
    return seconds, contender


def _waits(contender: Contender) -> dict[str, float]:
    waits = sorted(contender.waits) or [0.0]
    return {
        "lock_waits": len(contender.waits),
        "lock_wait_p50_ms": round(statistics.median(waits) * 1000, 2),
        "lock_wait_max_ms": round(waits[-1] * 1000, 1),
    }


def main() -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rows", type=int, default=1_200_000)
    parser.add_argument("--batch", type=int, default=10_000)
    args = parser.parse_args()
    rows = 120_000 if args.quick else args.rows
    server = server_url()
    name, url = create_database(server, "bench")
    now = datetime.now(UTC)
    cutoff = now - timedelta(days=90)
    try:
        migrate(url)
        old = fill(url, rows, now)
        accept_silver(url, now)
        holder: dict = {}

        def batched() -> None:
            holder["report"] = purge(
                url, RetentionPolicy(bronze_days=90, batch_rows=args.batch), clock=lambda: now
            )

        batched_s, batched_contender = _timed(url, batched, cutoff)
        report = holder["report"]
        with psycopg.connect(url) as conn:
            left = conn.execute("select count(*) from bronze.raw_records").fetchone()[0]
        deleted = report.tables[0].rows
        # a row the contender held locked at that moment is skipped, not waited for: the next
        # run takes it
        assert deleted + left == rows and old - 5 <= deleted <= old, (report, left)

        # the same data again, purged by one DELETE
        with psycopg.connect(url) as conn:
            conn.execute("truncate bronze.raw_records")
        fill(url, rows, now)

        def single() -> None:
            with psycopg.connect(url) as conn:
                conn.execute("delete from bronze.raw_records where ingested_at < %s", (cutoff,))

        single_s, single_contender = _timed(url, single, cutoff)
        batched_waits, single_waits = _waits(batched_contender), _waits(single_contender)
        result = {
            "rows": rows,
            "purgeable": old,
            "purged": deleted,
            "skipped_locked": old - deleted,
            "batch_rows": args.batch,
            "batched_s": round(batched_s, 1),
            "batched_rows_per_s": round(old / batched_s),
            "batched": batched_waits,
            "single_delete_s": round(single_s, 1),
            "single_delete": single_waits,
            "longest_wait_single_over_batched": round(
                single_waits["lock_wait_max_ms"] / max(batched_waits["lock_wait_max_ms"], 0.1), 1
            ),
        }
    finally:
        drop_database(server, name)
    return publish(result, RESULTS)


if __name__ == "__main__":
    main()
