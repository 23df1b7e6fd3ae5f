"""The caption enrichment's cost: model speed, the pipeline's extra time for new captions, its
memory, and lookalike query latency.

Makes a database of its own on DATABASE_URL (default: local PostgreSQL), migrates it, fills the
silver captions contract (silver.int_posts) with N distinct synthetic PT and EN captions over
N/30 creators, then runs the enrichment exactly as the Dagster asset does (enrichment.pipeline.run:
embed in batches of 256, score interests and sentiment, content vectors) and once more with
nothing new (the incremental check alone). Reports captions per second (the model alone, and the
whole enrichment), the seconds per step, the peak RSS of this process, the median latency of
a lookalike query (exact scan; pgvector's HNSW too when the server has the extension) and the
machine's load average (the model uses every core: other work slows it). Drops the database.
Last line of output: one JSON object (also written to benchmarks/results/enrichment.json).

`--captions N` (default 100000) sets the size; `--quick` runs 1000. Below 100000 the extra time
at 100000 is extrapolated linearly and says so.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from analisa.core.db import drop_database, migrate
from benchmarks.common import create_database, publish, server_url
from enrichment.labels import Classifier
from enrichment.lookalike import similar, uses_pgvector
from enrichment.model import default_embedder
from enrichment.pipeline import BATCH, run

RESULTS = Path(__file__).resolve().parent / "results" / "enrichment.json"
TARGET = 100_000

_OPENINGS = (
    "Treino de pernas hoje",
    "Receita de bolo de cenoura",
    "Look do dia para o trabalho",
    "Roteiro de três dias em Lisboa",
    "Minha carteira de investimentos",
    "Live jogando o novo jogo",
    "Cover de violão",
    "Primeiro passeio do filhote",
    "Resumo de história para o vestibular",
    "Review do celular novo",
    "Leg day at the gym",
    "Easy pasta for dinner",
    "Thrift haul this weekend",
    "Sunset at the beach",
    "How I pay off debt",
    "Ranked match tonight",
    "New single out friday",
    "Our toddler's bedtime routine",
    "Study with me before finals",
    "Unboxing the new laptop",
)
_ENDINGS = (
    "que dia incrível!",
    "amei demais",
    "não gostei muito",
    "link na bio",
    "what a day!",
    "loved it",
    "so disappointed",
    "details in my stories",
)


def captions(n: int, seed: int = 11):
    rng = random.Random(seed)
    for i in range(n):
        yield (f"{rng.choice(_OPENINGS)}, {rng.choice(_ENDINGS)} #{rng.randint(1, 500)} (post {i})")


def fill(url: str, n: int) -> None:
    with psycopg.connect(url) as conn:
        conn.execute(
            "create table silver.int_posts (platform text, account_id text, post_id text,"
            " caption text, posted_at timestamptz, is_deleted boolean)"
        )
        with conn.cursor().copy(
            "copy silver.int_posts (platform, account_id, post_id, caption, posted_at,"
            " is_deleted) from stdin"
        ) as copy:
            for i, text in enumerate(captions(n)):
                copy.write_row(
                    (
                        "instagram",
                        f"acct{i % max(1, n // 30):06d}",
                        f"p{i:08d}",
                        text,
                        f"2026-10-{1 + i % 28:02d} 12:00+00",
                        False,
                    )
                )


def main() -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--captions", type=int, default=TARGET)
    args = parser.parse_args()
    n = 1000 if args.quick else args.captions
    load_start = round(os.getloadavg()[0], 2)
    server = server_url()
    name, url = create_database(server, "bench")
    try:
        migrate(url)
        fill(url, n)
        started = time.perf_counter()
        embedder = default_embedder()
        classifier = Classifier.for_embedder(embedder)
        load_s = time.perf_counter() - started

        sample = list(captions(4 * BATCH, seed=3))
        started = time.perf_counter()
        for i in range(0, len(sample), BATCH):
            embedder.embed(sample[i : i + BATCH])
        model_rate = len(sample) / (time.perf_counter() - started)

        started = time.perf_counter()
        stats = run(url, embedder, classifier)
        pipeline_s = time.perf_counter() - started
        started = time.perf_counter()
        again = run(url, embedder, classifier)
        nothing_new_s = time.perf_counter() - started
        assert stats.embedded == n and again.embedded == 0 and stats.complete

        latencies = {}
        with psycopg.connect(url) as conn:
            accounts = [
                r[0]
                for r in conn.execute(
                    "select account_id from silver.influencer_content_vectors order by 1 limit 20"
                ).fetchall()
            ]
            paths = [True] + ([False] if uses_pgvector(conn) else [])
            for exact in paths:
                times = []
                for account in accounts:
                    t0 = time.perf_counter()
                    similar(conn, "instagram", account, limit=10, exact=exact)
                    times.append((time.perf_counter() - t0) * 1000)
                latencies["exact_ms" if exact else "hnsw_ms"] = round(statistics.median(times), 1)

        per_caption = pipeline_s / n
        result = {
            "captions": n,
            "creators": stats.accounts,
            "model": f"{embedder.model} ({embedder.version})",
            "model_load_s": round(load_s, 1),
            "model_captions_per_s": round(model_rate, 1),
            "pipeline_captions_per_s": round(n / pipeline_s, 1),
            "pipeline_s": round(pipeline_s, 1),
            "steps_s": {k: round(v, 1) for k, v in stats.seconds.items()},
            "nothing_new_s": round(nothing_new_s, 2),
            "extra_time_100k_s": round(per_caption * TARGET, 0),
            "extra_time_100k_extrapolated": n < TARGET,
            "lookalike_query_median": latencies,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "cpus": os.cpu_count(),
            # other work on the machine slows the model in proportion: say how busy it was
            "load_average_1m_start_end": [load_start, round(os.getloadavg()[0], 2)],
        }
    finally:
        drop_database(server, name)
    return publish(result, RESULTS)


if __name__ == "__main__":
    main()
