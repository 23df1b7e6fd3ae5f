"""The pipeline at scale: bronze for many influencers through the real loading path, then silver,
gold and gates, a full build, an incremental one after 1 % new data, and the floor a hand-written
SQL doing only the core work reaches on the same database in the same run: every post's latest
capture from both platforms' listings, its Instagram insights of that round and the followers at
capture, and its engagement rate (what fct_post_engagement holds, without the rest of gold).

Creates its own database on DATABASE_URL (default: local PostgreSQL), drops it afterwards. Last
line of output: one JSON object (also written to benchmarks/results/pipeline.json). Keys:
influencers, posts, bronze_records, bronze_rows_per_s, full_build_s, incremental_build_s (silver,
gold and gates: the build job without its last step, the Parquet export, which is `*_export_s`),
gates_s, peak_rss_mb (largest process of ours: this one; PostgreSQL and dbt excluded), sql_floor_s,
and where the time went: each build's Dagster steps (`*_steps_s`) and its costliest dbt nodes
(`*_top_dbt_s`, from dbt's run_results.json).

The builds' times leave out, besides the export, what an in-process run does after it has ended:
writing its numbers for monitoring (every table's exact row count, `*_record_s`), which a
deployment's sensor does once the run is over. The dbt a process keeps warm between its dbt
steps (orchestration/lib/dbt_server.py) is stopped before each build: each starts dbt once, as a
new `analisa pipeline` process does (it starts dbt when the run begins, so the import overlaps
the steps before the first dbt step).

The dbt project is parsed before the full build's clock starts, as a deployment does once per
release (a first build on a fresh checkout parses it too: about 5 s more).

The caption enrichment is switched off (ANALISA_ENRICHMENT=off): full_build_s is silver, gold and
the gates; the enrichment's own cost is what benchmarks/enrichment.py measures.

`--quick` runs 200 influencers × 20 posts in well under two minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from analisa.core.catalog import AUDIENCE_BREAKDOWNS
from analisa.core.db import drop_database, migrate
from analisa.core.settings import Settings
from benchmarks.common import create_database, publish, server_url
from connectors.bronze_writer import write_records
from connectors.raw_import import analyze_bronze
from connectors.records import RawRecord

RESULTS = Path(__file__).resolve().parent / "results" / "pipeline.json"
# the job's last step, after the gold gate: the Parquet export (benchmarks/export.py measures it)
EXPORT_STEP = "exports__gold_parquet"
START = datetime(2026, 9, 1, 8, tzinfo=UTC)
CAPTIONS = ("Novo treino #fitness 💪", "Receita rápida #comida", "Look do dia #moda #ootd")
# Real captions are nearly all different although their words repeat: each post's caption is one
# of the three openings, three words of a small vocabulary and the post's own tag, so the
# caption models cannot get away with splitting a handful of distinct captions.
WORDS = [
    "hoje",
    "amanhã",
    "semana",
    "treino",
    "receita",
    "viagem",
    "praia",
    "café",
    "música",
    "jogo",
    "série",
    "livro",
    "filho",
    "casa",
    "trabalho",
    "sol",
    "chuva",
    "verão",
    "amigos",
    "família",
    "today",
    "weekend",
    "workout",
    "recipe",
    "travel",
    "beach",
    "coffee",
    "music",
    "game",
    "book",
    "kids",
    "home",
    "work",
    "summer",
    "friends",
    "#tbt",
    "#love",
    "#instagood",
    "#brasil",
    "#sp",
    "#rj",
    "#portugal",
    "#lisboa",
    "#saude",
    "#beleza",
    "#pets",
    "#gaming",
    "#tech",
]


def caption(post_id: str, n: int) -> str:
    words = " ".join(WORDS[(n * k + len(post_id)) % len(WORDS)] for k in (7, 11, 13))
    return f"{CAPTIONS[n % 3]} {words} #p{post_id[-9:]}"


AGES = ("18-24", "25-34", "35-44")
COUNTRIES = ("BR", "PT", "US")


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _record(platform, endpoint, account, round_id, at, body, object_id=None) -> RawRecord:
    return RawRecord(
        platform=platform,
        endpoint=endpoint,
        account_id=account,
        round_id=round_id,
        fetched_at=at,
        status=200,
        body_text=json.dumps(body, ensure_ascii=False),
        object_id=object_id,
        source="benchmark",
    )


def instagram_round(account: str, posts: int, day: int, rng: random.Random) -> Iterator[RawRecord]:
    """One collection round of one Instagram account: profile, pages of 100, insights, audience."""
    at = START + timedelta(days=day, seconds=int(account[-4:]))
    round_id = f"{account}-d{day}"
    followers = 5_000 + int(account[-4:]) * 7 + day * 11
    yield _record(
        "instagram",
        "user",
        account,
        round_id,
        at,
        {
            "user_id": account,
            "id": account,
            "username": f"creator{account[-5:]}",
            "followers_count": followers,
            "follows_count": 300,
            "media_count": posts,
        },
    )
    ids = [f"{account}{n:05d}" for n in range(posts)]
    for page_start in range(0, posts, 100):
        page = ids[page_start : page_start + 100]
        more = page_start + 100 < posts
        body = {
            "data": [
                {
                    "id": media_id,
                    "caption": caption(media_id, n),
                    "media_type": "IMAGE",
                    "media_product_type": "FEED",
                    "timestamp": (START - timedelta(hours=n)).strftime("%Y-%m-%dT%H:%M:%S+0000"),
                    "like_count": 100 + n + day * 3,
                    "comments_count": 5 + n % 7,
                    "permalink": f"https://www.instagram.com/p/{media_id}/",
                }
                for n, media_id in enumerate(page, start=page_start)
            ],
            "paging": {"cursors": {"before": "b", "after": "a"}},
        }
        if more:
            body["paging"]["next"] = "https://graph.instagram.com/v23.0/next"
        if page_start:
            body["paging"]["previous"] = "https://graph.instagram.com/v23.0/previous"
        yield _record("instagram", "media", account, round_id, at + timedelta(seconds=1), body)
    for n, media_id in enumerate(ids):
        metrics = {"reach": 900 + n, "saved": n % 11, "shares": n % 5, "views": 1500 + n}
        body = {
            "data": [
                {"name": name, "period": "lifetime", "values": [{"value": value}]}
                for name, value in metrics.items()
            ]
        }
        yield _record(
            "instagram",
            "media_insights",
            account,
            round_id,
            at + timedelta(seconds=2 + n),
            body,
            object_id=media_id,
        )
    for breakdown in AUDIENCE_BREAKDOWNS:
        keys = breakdown.split(",")
        values = AGES if keys[0] == "age" else ("F", "M", "U") if keys[0] == "gender" else COUNTRIES
        results = [
            {
                "dimension_values": [v] + (["F"] if len(keys) == 2 else []),
                "value": rng.randint(10, 900),
            }
            for v in values
        ]
        body = {
            "data": [
                {
                    "name": "follower_demographics",
                    "period": "lifetime",
                    "total_value": {"breakdowns": [{"dimension_keys": keys, "results": results}]},
                }
            ]
        }
        yield _record(
            "instagram", "user_insights", account, round_id, at + timedelta(hours=1), body
        )


def tiktok_round(account: str, posts: int, day: int) -> Iterator[RawRecord]:
    at = START + timedelta(days=day, seconds=int(account[-4:]))
    round_id = f"{account}-d{day}"
    yield _record(
        "tiktok",
        "user_info",
        account,
        round_id,
        at,
        {
            "data": {
                "user": {
                    "open_id": account,
                    "display_name": f"Creator {account[-5:]}",
                    "follower_count": 20_000 + day * 17,
                    "following_count": 50,
                    "likes_count": 10_000,
                    "video_count": posts,
                }
            },
            "error": {"code": "ok", "message": "", "log_id": "x"},
        },
    )
    for page_start in range(0, posts, 20):
        n_items = min(20, posts - page_start)
        videos = [
            {
                "id": f"{account}{n:05d}",
                "create_time": int((START - timedelta(hours=n)).timestamp()),
                "title": "t",
                "video_description": caption(f"{account}{n:05d}", n),
                "duration": 30,
                "like_count": 500 + n + day,
                "comment_count": 20,
                "share_count": 7,
                "view_count": 9000 + n,
            }
            for n in range(page_start, page_start + n_items)
        ]
        body = {
            "data": {
                "videos": videos,
                "cursor": 1_700_000_000_000 - page_start,
                "has_more": page_start + 20 < posts,
            },
            "error": {"code": "ok", "message": "", "log_id": "x"},
        }
        yield _record("tiktok", "video_list", account, round_id, at + timedelta(seconds=1), body)


def generate(influencers: int, posts: int, days: range, rng: random.Random) -> Iterator[RawRecord]:
    for i in range(influencers):
        account = f"1784{i:08d}" if i % 2 == 0 else f"-000tt{i:08d}"
        for day in days:
            if i % 2 == 0:
                yield from instagram_round(account, posts, day, rng)
            else:
                yield from tiktok_round(account, posts, day)


def load(url: str, records: Iterator[RawRecord], batch: int = 5000) -> int:
    written = 0
    chunk: list[RawRecord] = []
    with psycopg.connect(url) as conn:
        for record in records:
            chunk.append(record)
            if len(chunk) >= batch:
                with conn.transaction():
                    written += write_records(conn, chunk)
                chunk = []
        if chunk:
            with conn.transaction():
                written += write_records(conn, chunk)
        analyze_bronze(conn)
    return written


SQL_FLOOR = """
create temporary table floor_followers as
select platform, account_id, fetched_at,
       coalesce((body ->> 'followers_count')::bigint,
                (body -> 'data' -> 'user' ->> 'follower_count')::bigint) as followers
from bronze.raw_records
where (platform = 'instagram' and endpoint = 'user')
   or (platform = 'tiktok' and endpoint = 'user_info');
create index on floor_followers (platform, account_id, fetched_at);
analyze floor_followers;
create table public.floor_posts as
with captures as (
    select 'instagram' as platform, r.account_id, e ->> 'id' as post_id, r.round_id, r.fetched_at,
           (e ->> 'like_count')::bigint as likes, (e ->> 'comments_count')::bigint as comments,
           null::bigint as views
    from bronze.raw_records r
    cross join lateral jsonb_array_elements(r.body -> 'data') e
    where r.platform = 'instagram' and r.endpoint = 'media'
    union all
    select 'tiktok', r.account_id, e ->> 'id', r.round_id, r.fetched_at,
           (e ->> 'like_count')::bigint, (e ->> 'comment_count')::bigint,
           (e ->> 'view_count')::bigint
    from bronze.raw_records r
    cross join lateral jsonb_array_elements(r.body -> 'data' -> 'videos') e
    where r.platform = 'tiktok' and r.endpoint = 'video_list'
),
latest as (
    select distinct on (platform, post_id) * from captures
    order by platform, post_id, fetched_at desc
),
insights as (
    select distinct on (object_id, round_id) object_id as post_id, round_id,
           jsonb_path_query_first(body, '$.data[*] ? (@.name == "reach").values[0].value')
               ::bigint as reach,
           jsonb_path_query_first(body, '$.data[*] ? (@.name == "views").values[0].value')
               ::bigint as views
    from bronze.raw_records
    where platform = 'instagram' and endpoint = 'media_insights'
    order by object_id, round_id, fetched_at desc
)
select l.platform, l.post_id, l.account_id, l.likes, l.comments, i.reach,
       coalesce(i.views, l.views) as views, f.followers,
       round((l.likes + l.comments) * 100.0 / nullif(f.followers, 0), 4) as rate
from latest l
left join insights i
    on l.platform = 'instagram' and i.post_id = l.post_id and i.round_id = l.round_id
join lateral (
    select followers from floor_followers f
    where f.platform = l.platform and f.account_id = l.account_id and f.fetched_at <= l.fetched_at
    order by f.fetched_at desc limit 1
) f on true
"""


def top_dbt_nodes(run_id: str, top: int = 8) -> dict[str, float]:
    """The costliest dbt nodes (models, tests, seeds) of one run, from each dbt step's
    run_results.json (dagster-dbt names the folders `<step>-<run id[:7]>-<uuid[:7]>`)."""
    from orchestration.defs.dbt.resources import dbt_project_dir
    from orchestration.defs.dbt.target_cleanup import target_dir

    timings: dict[str, float] = {}
    for folder in target_dir(dbt_project_dir()).glob(f"dbt_*-{run_id[:7]}-*"):
        results = folder / "run_results.json"
        if not results.exists():
            continue
        for node in json.loads(results.read_text(encoding="utf-8"))["results"]:
            name = node["unique_id"].split(".", 2)[-1]
            timings[name] = round(node["execution_time"], 2)
    return dict(sorted(timings.items(), key=lambda item: -item[1])[:top])


def build(job_env: dict[str, str], full_refresh: bool = False):
    """(build seconds, outcome, costliest dbt nodes) of one build_from_bronze run in this
    process (the nodes are read at once: other runs' clean-up removes old target folders)."""
    import dagster as dg

    from orchestration.defs.dbt.resources import WARM_DBT
    from orchestration.run import run_job

    os.environ.update(job_env)
    WARM_DBT.stop()  # each build starts dbt once, as a new process would
    started = time.perf_counter()
    outcome = run_job(
        "build_from_bronze",
        instance=dg.DagsterInstance.ephemeral(),
        collect=False,
        full_refresh=full_refresh,
        log_path=Path(job_env["ANALISA_HOME"]) / "pipeline.log",
    )
    total = time.perf_counter() - started
    if not outcome.success:
        print("build failed:", outcome.errors + outcome.failed_checks, file=sys.stderr)
    export_s = outcome.step_seconds.get(EXPORT_STEP, 0.0)
    record_s = outcome.record_seconds
    print(
        f"build {total:.1f} s, of which export {export_s:.1f} s, run record {record_s:.1f} s",
        file=sys.stderr,
        flush=True,
    )
    return total - export_s - record_s, export_s, outcome, top_dbt_nodes(outcome.run_id)


def main() -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--influencers", type=int, default=10_000)
    parser.add_argument("--posts", type=int, default=1_000_000, help="posts in all")
    parser.add_argument("--captures", type=int, default=3)
    args = parser.parse_args()
    influencers, posts = (200, 4_000) if args.quick else (args.influencers, args.posts)
    per_account = max(1, posts // influencers)
    server = server_url()
    name, url = create_database(server, "bench")
    home = Path(tempfile.mkdtemp(prefix="analisa-bench-"))
    env = {
        "DATABASE_URL": url,
        "ANALISA_HOME": str(home),
        "ANALISA_EXPORT_DIR": str(home / "exports"),
        # silver + gold + gates; the enrichment is measured by benchmarks/enrichment.py
        "ANALISA_ENRICHMENT": "off",
    }
    for key in ("REDIS_URL", "AMQP_URL"):
        os.environ.pop(key, None)
    try:
        migrate(url)
        rng = random.Random(7)
        started = time.perf_counter()
        written = load(url, generate(influencers, per_account, range(args.captures), rng))
        load_s = time.perf_counter() - started
        print(f"loaded {written} records in {load_s:.1f} s", file=sys.stderr, flush=True)

        # The dbt manifest is made once per release of the project, not per build (a deployment
        # parses the project once): made here, against this database, before the clock starts.
        os.environ.update(env)
        from orchestration.defs.dbt.resources import analisa_dbt_project

        analisa_dbt_project()

        full_s, full_export_s, full, full_top = build(env)

        # 1 % new data: one more round for every hundredth influencer
        step = 100
        extra = (
            record
            for i in range(0, influencers, step)
            for record in (
                instagram_round(f"1784{i:08d}", per_account, args.captures, rng)
                if i % 2 == 0
                else tiktok_round(f"-000tt{i:08d}", per_account, args.captures)
            )
        )
        load(url, extra)
        incremental_s, incremental_export_s, incremental, incremental_top = build(env)

        with psycopg.connect(url) as conn:
            # the sort memory dbt's sessions get (ANALISA_DBT_WORK_MEM)
            conn.execute(f"set work_mem = '{Settings().dbt_work_mem}'")
            started = time.perf_counter()
            conn.execute(SQL_FLOOR)
            floor_s = time.perf_counter() - started
            conn.rollback()
            gold_posts = conn.execute("select count(*) from gold.fct_post_engagement").fetchone()[0]
        result = {
            "influencers": influencers,
            "posts": per_account * influencers,
            "captures_per_post": args.captures,
            "bronze_records": written,
            "bronze_rows_per_s": round(written / load_s),
            "full_build_s": round(full_s, 1),
            "full_build_ok": full.success,
            "incremental_build_s": round(incremental_s, 1),
            "incremental_build_ok": incremental.success,
            "gates_s": round(full.check_seconds, 1),
            "incremental_gates_s": round(incremental.check_seconds, 1),
            "full_export_s": round(full_export_s, 1),
            "incremental_export_s": round(incremental_export_s, 1),
            "full_record_s": round(full.record_seconds, 1),
            "incremental_record_s": round(incremental.record_seconds, 1),
            "gold_posts": gold_posts,
            "peak_rss_mb": round(_rss_mb(), 1),
            "sql_floor_s": round(floor_s, 2),
            "full_over_floor": round(full_s / floor_s, 1) if floor_s else None,
            "load_avg_1m": round(os.getloadavg()[0], 2),
            "full_steps_s": {k: round(v, 1) for k, v in full.step_seconds.items()},
            "incremental_steps_s": {k: round(v, 1) for k, v in incremental.step_seconds.items()},
            "full_top_dbt_s": full_top,
            "incremental_top_dbt_s": incremental_top,
        }
    finally:
        from analisa.core.db import stop_embedded

        stop_embedded()
        drop_database(server, name)
    return publish(result, RESULTS)


if __name__ == "__main__":
    main()
