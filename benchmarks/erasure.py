"""`analisa erase` on a bronze of many creators: how long the erasure and its verification take,
and what the suppression check costs `analisa ingest`.

Builds a database of its own on DATABASE_URL (default: local PostgreSQL), writes raw answers of
N creators (a profile and media pages of 25 posts per round; one caption in a hundred mentions
the creator to erase), loads them through `connectors.raw_import.import_path`, then erases one
creator through `privacy.erase.erase` (the code behind `analisa erase`) and reports: the rows
and bytes of bronze, the erase time (searching every table, deleting, scrubbing, verifying),
what it deleted and scrubbed, and that nothing remained. Then the same file is loaded into two
fresh databases, one with an empty suppression list and one with 100 suppressed accounts, and
the ratio of their load times is the cost of the check (measured in the same run, as timings
on these machines are noisy). Drops its databases and files. Last line of output: one JSON
object (also written to benchmarks/results/erasure.json).

`--quick` uses 200 creators × 5 rounds.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from analisa.core.db import drop_database, migrate
from analisa.core.settings import Settings
from benchmarks.common import create_database, publish
from connectors.raw_import import import_path
from privacy.erase import Services, erase
from privacy.suppression import suppress

RESULTS = Path(__file__).resolve().parent / "results" / "erasure.json"
KEY = "benchmark-pseudonym-key"


def account(n: int) -> str:
    return f"178414{n:011d}"


def write_corpus(path: Path, creators: int, rounds: int) -> int:
    start = datetime(2026, 9, 1, tzinfo=UTC)
    subject_name = "creator.00000"
    envelopes = 0
    with path.open("w", encoding="utf-8") as f:
        for r in range(rounds):
            at = (start + timedelta(hours=6 * r)).isoformat()
            for n in range(creators):
                acc, name = account(n), f"creator.{n:05d}"
                profile = {"id": acc, "username": name, "followers_count": 1000 + n + r}
                items = [
                    {
                        "id": f"{n:07d}{r:03d}{j:02d}",
                        "caption": (
                            f"with @{subject_name} #travel"
                            if n and (n * 25 + j) % 100 == 0
                            else "Novo treino #fitness"
                        ),
                        "media_type": "IMAGE",
                        "timestamp": "2026-08-30T10:00:00+0000",
                        "like_count": j,
                        "comments_count": j,
                    }
                    for j in range(25)
                ]
                for endpoint, body in (("user", profile), ("media", {"data": items})):
                    f.write(
                        json.dumps(
                            {
                                "platform": "instagram",
                                "endpoint": endpoint,
                                "account_id": acc,
                                "round_id": f"r{r}:{acc}",
                                "fetched_at": at,
                                "status": 200,
                                "body": body,
                            }
                        )
                        + "\n"
                    )
                    envelopes += 1
    return envelopes


def new_database(server: str) -> tuple[str, str]:
    name, url = create_database(server, "bench_erasure")
    migrate(url)
    return name, url


def load(url: str, path: Path) -> float:
    with psycopg.connect(url) as conn:
        began = time.perf_counter()
        import_path(conn, path, KEY)
        return time.perf_counter() - began


def main() -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--creators", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    creators, rounds = (200, 5) if args.quick else (args.creators, args.rounds)
    server = Settings().database_url or "postgresql://postgres@127.0.0.1:5432/postgres"
    folder = Path(tempfile.mkdtemp(prefix="analisa-bench-erasure-"))
    path = folder / "corpus.jsonl"
    names: list[str] = []
    try:
        envelopes = write_corpus(path, creators, rounds)
        name, url = new_database(server)
        names.append(name)
        load(url, path)
        with psycopg.connect(url) as conn:
            rows, size = conn.execute(
                "select count(*), sum(pg_column_size(body)) from bronze.raw_records"
            ).fetchone()
        settings = Settings(ANALISA_PSEUDONYM_KEY=KEY)
        began = time.perf_counter()
        report = erase(
            settings,
            url,
            "instagram",
            account(0),
            actor="benchmark",
            services=Services(),
            revoke=lambda *_: "none",
        )
        erase_seconds = time.perf_counter() - began

        plain_name, plain = new_database(server)
        names.append(plain_name)
        listed_name, listed = new_database(server)
        names.append(listed_name)
        with psycopg.connect(listed) as conn, conn.transaction():
            for n in range(100):
                suppress(conn, KEY, "instagram", f"9{n:016d}", [f"gone.{n}"])
        plain_seconds = load(plain, path)
        listed_seconds = load(listed, path)
    finally:
        for name in names:
            drop_database(server, name)
        path.unlink(missing_ok=True)
        folder.rmdir()
    result = {
        "creators": creators,
        "rounds": rounds,
        "envelopes": envelopes,
        "bronze_rows": rows,
        "bronze_body_mb": round((size or 0) / 1024 / 1024, 1),
        "erase_seconds": round(erase_seconds, 2),
        "rows_deleted": report.rows_deleted,
        "rows_scrubbed": report.rows_scrubbed,
        "remaining_rows": sum(report.remaining_rows.values()),
        "clean": report.clean,
        "ingest_seconds_no_suppression": round(plain_seconds, 2),
        "ingest_seconds_100_suppressed": round(listed_seconds, 2),
        "ingest_suppression_cost_ratio": round(listed_seconds / plain_seconds, 3),
    }
    return publish(result, RESULTS)


if __name__ == "__main__":
    main()
