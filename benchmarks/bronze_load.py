"""Bronze load speed: COPY-based `write_records` against row-by-row INSERTs, in one run.

Creates its own database on DATABASE_URL (default: local PostgreSQL), loads N synthetic
Instagram media pages both ways, reports records/s and the ratio, and the peak memory of the
COPY load; drops the database. Last line of output: the JSON result (also written to
benchmarks/results/bronze_load.json).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from analisa.core.db import drop_database, migrate
from benchmarks.common import create_database, publish, server_url
from connectors.bronze_writer import _COLUMNS, _row, ensure_partitions, write_records
from connectors.records import RawRecord


def synthetic(n: int, tag: str) -> list[RawRecord]:
    start = datetime(2026, 10, 1, tzinfo=UTC)
    out = []
    for i in range(n):
        body = {
            "data": [
                {
                    "id": f"{i}{j}",
                    "caption": "Novo treino #fitness 💪" * 3,
                    "media_type": "VIDEO",
                    "timestamp": "2026-10-02T14:03:11+0000",
                    "like_count": i * j,
                    "comments_count": j,
                }
                for j in range(25)
            ],
            "paging": {"cursors": {"after": f"c{i}"}},
        }
        out.append(
            RawRecord(
                "instagram",
                "media",
                str(i % 500),
                f"{tag}-{i // 4}",
                start + timedelta(seconds=i * 37),
                200,
                json.dumps(body),
            )
        )
    return out


def row_by_row(conn: psycopg.Connection, records: list[RawRecord]) -> None:
    ensure_partitions(conn, [r.fetched_at for r in records])
    cols = ", ".join(_COLUMNS)
    marks = ", ".join(["%s"] * len(_COLUMNS))
    for r in records:
        conn.execute(
            f"insert into bronze.raw_records ({cols}) values ({marks}) on conflict do nothing",
            _row(r),
        )


def main() -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--records", type=int, default=20000)
    args = parser.parse_args()
    n = 2000 if args.quick else args.records
    server = server_url()
    name, url = create_database(server, "bench")
    try:
        migrate(url)
        copy_records, insert_records = synthetic(n, "copy"), synthetic(n, "insert")
        with psycopg.connect(url) as conn:
            t0 = time.perf_counter()
            with conn.transaction():
                write_records(conn, copy_records)
            copy_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            with conn.transaction():
                row_by_row(conn, insert_records)
            insert_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            with conn.transaction():
                again = write_records(conn, copy_records)
            replay_s = time.perf_counter() - t0
            # memory apart from timing: tracemalloc slows allocation-heavy code several-fold
            memory_records = synthetic(min(n, 2000), "memory")
            tracemalloc.start()
            with conn.transaction():
                write_records(conn, memory_records)
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
    finally:
        drop_database(server, name)
    result = {
        "benchmark": "bronze_load",
        "records": n,
        "copy_seconds": round(copy_s, 3),
        "copy_records_per_second": round(n / copy_s),
        "row_by_row_seconds": round(insert_s, 3),
        "row_by_row_records_per_second": round(n / insert_s),
        "copy_speedup": round(insert_s / copy_s, 2),
        "replay_seconds": round(replay_s, 3),
        "replay_new_records": again,
        "copy_peak_python_kib_per_record": round(peak / 1024 / len(memory_records), 1),
    }
    out = Path(__file__).resolve().parent / "results" / "bronze_load.json"
    return publish(result, out)


if __name__ == "__main__":
    main()
