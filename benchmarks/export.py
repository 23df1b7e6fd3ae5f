"""Parquet export speed and memory: rows per second, and a peak memory set by the batch, not
the table.

For each size, in a process of its own (peak RSS is per process): a database of its own on
DATABASE_URL (default: local PostgreSQL) gets every exported table, empty but for
`silver.int_post_snapshots`, filled with N post captures over two platforms and 90 days by
`generate_series`; `exports.parquet.export_gold` writes them to a temporary folder. Reports
rows, seconds, rows per second, files, bytes on disk and peak RSS; drops the database and the
folder. Last line of output: one JSON object (also written to benchmarks/results/export.json).

`--quick`: 100 000 and 400 000 rows (default 500 000 and 2 000 000).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from analisa.core.db import drop_database
from benchmarks.common import create_database, publish, server_url
from exports.parquet import DEFAULT_BATCH_ROWS, export_gold
from exports.schema import SQL_CASTS, TABLES

RESULTS = Path(__file__).resolve().parent / "results" / "export.json"
SQL_TYPES = {**SQL_CASTS, "float64": "numeric(7,4)", "int64": "bigint"}

FILL = """
insert into silver.int_post_snapshots
    (platform, account_id, post_id, posted_at, media_type, caption, hashtags, likes,
     likes_hidden, comments, shares, views, reach, saved, total_interactions,
     insights_captured_at, listing_source, round_id, record_id, captured_at)
select
    case when n %% 2 = 0 then 'instagram' else 'tiktok' end,
    'acct-' || (n %% 500),
    'post-' || n,
    timestamptz '2026-07-01 00:00+00' + (n %% 90) * interval '1 day',
    'IMAGE',
    'Novo treino de hoje #fitness #saude caption number ' || n,
    '#fitness #saude',
    case when n %% 10 = 0 then null else n %% 997 end,
    n %% 10 = 0,
    n %% 53, n %% 7, n * 3, n * 2, n %% 11, n %% 1000,
    timestamptz '2026-07-01 00:00+00' + (n %% 90) * interval '1 day' + interval '2 hours',
    'listing', 'round-' || (n %% 1000), n,
    timestamptz '2026-07-01 00:00+00' + (n %% 90) * interval '1 day' + interval '1 hour'
from generate_series(1, %s) as n
"""


def one(rows: int) -> dict:
    server = server_url()
    folder = Path(tempfile.mkdtemp(prefix="analisa-export-"))
    name, url = create_database(server, "bench")
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            for schema in ("gold", "silver"):
                conn.execute(sql.SQL("create schema {}").format(sql.Identifier(schema)))
            for t in TABLES:
                columns = sql.SQL(", ").join(
                    sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(SQL_TYPES[k]))
                    for n, k in t.columns
                )
                conn.execute(
                    sql.SQL("create table {} ({})").format(
                        sql.Identifier(*t.relation.split(".")), columns
                    )
                )
            conn.execute(FILL, (rows,))
            conn.execute("analyze silver.int_post_snapshots")
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        started = time.perf_counter()
        manifest = export_gold(url, str(folder / "exports"))
        seconds = time.perf_counter() - started
        entry = manifest["tables"]["int_post_snapshots"]
        size = sum(p.stat().st_size for p in (folder / "exports").rglob("*.parquet"))
        return {
            "rows": entry["rows"],
            "files": len(entry["files"]),
            "export_s": round(seconds, 2),
            "rows_per_s": round(entry["rows"] / seconds),
            "parquet_mb": round(size / 1024 / 1024, 1),
            "batch_rows": DEFAULT_BATCH_ROWS,
            "rss_before_mb": round(rss_before, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        drop_database(server, name)


def main() -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one)))
        return {}
    sizes = (100_000, 400_000) if args.quick else (500_000, 2_000_000)
    runs = []
    for rows in sizes:
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(rows)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        runs.append(json.loads(out.splitlines()[-1]))
    result = {
        "runs": runs,
        # memory follows the batch, not the table: a 4x bigger table, about the same peak
        "peak_rss_growth_mb": round(runs[-1]["peak_rss_mb"] - runs[0]["peak_rss_mb"], 1),
    }
    return publish(result, RESULTS)


if __name__ == "__main__":
    main()
