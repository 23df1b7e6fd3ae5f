"""Bronze gate time and memory as bronze grows: the gate must stay flat in memory.

Creates its own database on DATABASE_URL (default: local PostgreSQL), loads N synthetic
Instagram records (profiles, media pages of 25 posts, media insights, one in a thousand insights
truncated) through `write_records` in a child process, so this process holds only what the gate
itself needs. Then runs the bronze gate and the malformed-responses check as the Dagster checks
run them, once at a quarter of N and once at N, measuring wall time and resident memory (a
sampling thread during each gate, and ru_maxrss for the whole process). Great Expectations, which
judges the gate's counts, is imported and run once on one check first, measured apart: its cost
is fixed, so the gates' growth from a quarter to N shows what the data costs. Both judge all of
bronze (no run accepted yet). Then the gate is accepted once on N (its marks recorded), 1 % more
records are loaded, and the gate judges only those: what an incremental build pays. Drops the
database.
Last line of output: the JSON result (also written to benchmarks/results/bronze_gate.json).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from analisa.core.db import drop_database, migrate
from benchmarks.common import create_database, publish, server_url
from connectors.bronze_writer import write_records
from connectors.records import RawRecord
from expectations import bronze, judge
from expectations.results import none_allowed

ACCOUNTS = 500
# one round of one account: a profile, two media pages of 25 posts, ten insights
ROUND = ("user", "media", "media", *["media_insights"] * 10)
MALFORMED_ROUNDS = 100  # the first insights answer of every 100th round is truncated
BATCH = 5000


def _record(i: int, end: datetime, span: timedelta, total: int) -> RawRecord:
    round_no, slot = divmod(i, len(ROUND))
    endpoint = ROUND[slot]
    account = f"1784140000{round_no % ACCOUNTS:07d}"
    # spread over `span` ending at `end`: several monthly partitions, none in the future
    at = end - span + span * (i / max(total, 1))
    object_id = None
    if endpoint == "user":
        body = json.dumps(
            {"id": account, "username": f"creator{account[-4:]}", "followers_count": 1000 + i}
        )
    elif endpoint == "media":
        page = slot - 1
        body = json.dumps(
            {
                "data": [
                    {
                        "id": f"{round_no}{page}{j:02d}",
                        "caption": "Novo treino #fitness #saude 💪 " * 3,
                        "media_type": "IMAGE",
                        "timestamp": "2026-10-02T14:03:11+0000",
                        "like_count": i % 997 + j,
                        "comments_count": j,
                        "permalink": f"https://www.instagram.com/p/{round_no}{page}{j:02d}/",
                    }
                    for j in range(25)
                ],
                "paging": {"cursors": {"after": f"c{round_no}{page}"}},
            }
        )
    else:
        object_id = f"{round_no}0{slot:02d}"
        body = json.dumps(
            {
                "data": [
                    {"name": m, "period": "lifetime", "values": [{"value": i % 500 + k}]}
                    for k, m in enumerate(("reach", "saved", "shares", "views"))
                ]
            }
        )
        if slot == 3 and round_no % MALFORMED_ROUNDS == 0:
            body = body[: len(body) // 2]
    return RawRecord(
        "instagram", endpoint, account, f"round-{round_no}", at, 200, body, object_id=object_id
    )


def load(url: str, first: int, last: int, total: int, end: datetime) -> None:
    """Write records first..last-1 of `total`, in batches of BATCH per transaction."""
    span = timedelta(days=75)
    with psycopg.connect(url) as conn:
        for start in range(first, last, BATCH):
            with conn.transaction():
                write_records(
                    conn,
                    (_record(i, end, span, total) for i in range(start, min(start + BATCH, last))),
                )


def expected_malformed(first: int, last: int) -> int:
    return sum(
        1
        for i in range(first, last)
        if i % len(ROUND) == 3 and i // len(ROUND) % MALFORMED_ROUNDS == 0
    )


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class PeakRss:
    """Samples this process's resident memory every few milliseconds while a block runs."""

    def __init__(self, interval: float = 0.005):
        self.interval, self.peak = interval, 0.0
        self._stop = threading.Event()

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss_mb())
            time.sleep(self.interval)

    def __enter__(self):
        self.peak = _rss_mb()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_mb())


def load_gx() -> dict:
    """Import GX and judge one check, as a gate run does: a fixed cost, paid once per process."""
    before = _rss_mb()
    t0 = time.perf_counter()
    judge.judge_checks([none_allowed("warm-up", 0, 0)])
    return {
        "gx_import_s": round(time.perf_counter() - t0, 3),
        "gx_rss_mb": round(_rss_mb() - before, 1),
    }


def run_gate(url: str, accept: bool = False) -> dict:
    """The bronze gate and the malformed check, each on its own connection as in Dagster; with
    `accept`, as the Dagster check runs it (the marks of the accepted endpoints recorded)."""
    before = _rss_mb()
    with PeakRss() as peak:
        t0 = time.perf_counter()
        with psycopg.connect(url) as conn:
            results = bronze.run(conn) if accept else bronze.evaluate(conn)
        gate_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        with psycopg.connect(url) as conn:
            found = bronze.malformed(conn)
        malformed_s = time.perf_counter() - t0
    failed = [r.summary() for r in results.values() if not r.success]
    return {
        "records": sum(r.rows for r in results.values()),
        "gate_s": round(gate_s, 3),
        "malformed_s": round(malformed_s, 3),
        "rss_before_gate_mb": round(before, 1),
        "gate_peak_rss_mb": round(peak.peak, 1),
        "gate_rss_growth_mb": round(peak.peak - before, 1),
        "failed": failed,
        "malformed": sum(m.count for m in found.values()),
    }


def _load_in_child(url: str, first: int, last: int, total: int, end: datetime) -> float:
    t0 = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            __file__,
            "--load",
            url,
            str(first),
            str(last),
            str(total),
            end.isoformat(),
        ],
        check=True,
    )
    return time.perf_counter() - t0


def main() -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="20,000 records, for a smoke check")
    parser.add_argument("--records", type=int, default=300_000)
    parser.add_argument("--load", nargs=5, help=argparse.SUPPRESS)  # the child's entry point
    args = parser.parse_args()
    if args.load:
        url, first, last, total, end = args.load
        load(url, int(first), int(last), int(total), datetime.fromisoformat(end))
        return {}

    n = 20_000 if args.quick else args.records
    server = server_url()
    name, url = create_database(server, "bench")
    end = datetime.now(UTC) - timedelta(hours=1)
    try:
        migrate(url)
        quarter = n // 4
        load_s = _load_in_child(url, 0, quarter, n, end)
        gx_cost = load_gx()
        small = run_gate(url)
        load_s += _load_in_child(url, quarter, n, n, end)
        full = run_gate(url)
        # bronze analyzed, as autovacuum does within a minute of a large load: the planner then
        # reads the new records on the index of their loading transaction
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("analyze bronze.raw_records")
        run_gate(url, accept=True)
        more = n // 100
        load_s += _load_in_child(url, n, n + more, n + more, end)
        incremental = run_gate(url, accept=True)
    finally:
        drop_database(server, name)
    for run, first_last in ((small, (0, quarter)), (full, (0, n))):
        assert not run["failed"], run["failed"]
        assert run["malformed"] == expected_malformed(*first_last), run["malformed"]
    assert not incremental["failed"], incremental["failed"]
    assert incremental["records"] == n + more, incremental["records"]
    result = {
        "benchmark": "bronze_gate",
        "records": full["records"],
        "gate_s": full["gate_s"],
        "malformed_s": full["malformed_s"],
        # ru_maxrss (KiB on Linux) over the whole process, which never held the loaded records
        "peak_rss_mb": round(
            max(
                resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                small["gate_peak_rss_mb"],
                full["gate_peak_rss_mb"],
            ),
            1,
        ),
        # importing GX and a first suite run (before the gates, in the same process)
        **gx_cost,
        "rss_before_gate_mb": full["rss_before_gate_mb"],
        "gate_rss_growth_mb": full["gate_rss_growth_mb"],
        "malformed": full["malformed"],
        "load_s": round(load_s, 1),
        # the same gate on a quarter of the records: time may grow, memory must not
        "quarter": {
            k: small[k] for k in ("records", "gate_s", "gate_peak_rss_mb", "gate_rss_growth_mb")
        },
        # after the gate accepted N, 1 % more records: only those are judged
        "incremental": {"new_records": more, "gate_s": incremental["gate_s"]},
    }
    out = Path(__file__).resolve().parent / "results" / "bronze_gate.json"
    return publish(result, out)


if __name__ == "__main__":
    main()
