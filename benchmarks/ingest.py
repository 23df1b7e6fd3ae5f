"""`analisa ingest` on one large file: memory stays bounded whatever the file's size.

Writes a JSONL file of Instagram media pages (about 25 posts each) of the asked size, imports it
through `connectors.raw_import.import_path` (the code behind `analisa ingest`) into a database of
its own on DATABASE_URL (default: local PostgreSQL), and reports the file size, envelopes, the
import rate and the peak RSS of this process; drops the database and the file. Last line of
output: one JSON object (also written to benchmarks/results/ingest.json).

`--quick` uses a 64 MB file.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from analisa.core.db import drop_database, migrate
from benchmarks.common import create_database, publish, server_url
from connectors.raw_import import import_path

RESULTS = Path(__file__).resolve().parent / "results" / "ingest.json"


def write_file(path: Path, size_mb: int) -> int:
    start = datetime(2026, 9, 1, tzinfo=UTC)
    target = size_mb * 1024 * 1024
    written = envelopes = 0
    with path.open("w", encoding="utf-8") as f:
        while written < target:
            n = envelopes
            body = {
                "data": [
                    {
                        "id": f"{n:09d}{j:02d}",
                        "caption": "Novo treino #fitness 💪 " * 4,
                        "media_type": "IMAGE",
                        "media_product_type": "FEED",
                        "timestamp": "2026-08-30T10:00:00+0000",
                        "like_count": n % 997,
                        "comments_count": j,
                        "permalink": f"https://www.instagram.com/p/{n}{j}/",
                    }
                    for j in range(25)
                ],
                "paging": {"cursors": {"before": "b", "after": "a"}},
            }
            envelope = {
                "platform": "instagram",
                "endpoint": "media",
                "account_id": f"1784{n % 5000:08d}",
                "round_id": f"r{n}",
                "fetched_at": (start + timedelta(seconds=n)).isoformat(),
                "status": 200,
                "body": body,
            }
            line = json.dumps(envelope, ensure_ascii=False) + "\n"
            f.write(line)
            written += len(line.encode())
            envelopes += 1
    return envelopes


def main() -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--size-mb", type=int, default=1024)
    args = parser.parse_args()
    size_mb = 64 if args.quick else args.size_mb
    server = server_url()
    folder = Path(tempfile.mkdtemp(prefix="analisa-ingest-"))
    path = folder / "big.jsonl"
    name, url = create_database(server, "bench")
    try:
        migrate(url)
        envelopes = write_file(path, size_mb)
        file_mb = path.stat().st_size / 1024 / 1024
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        started = time.perf_counter()
        with psycopg.connect(url) as conn:
            report = import_path(conn, path)
        seconds = time.perf_counter() - started
        result = {
            "file_mb": round(file_mb, 1),
            "envelopes": envelopes,
            "loaded": report.loaded,
            "rejected": report.rejected_total,
            "ingest_s": round(seconds, 1),
            "envelopes_per_s": round(envelopes / seconds),
            "mb_per_s": round(file_mb / seconds, 1),
            "rss_before_mb": round(rss_before, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }
    finally:
        path.unlink(missing_ok=True)
        folder.rmdir()
        drop_database(server, name)
    return publish(result, RESULTS)


if __name__ == "__main__":
    main()
