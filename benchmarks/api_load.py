"""API under load: the real app (uvicorn workers, Redis, gold for 10,000 influencers) driven by a
load generator in a separate process.

Phase (a): USERS concurrent users each holding a keep-alive connection, requests arriving at a
fixed TARGET_RPS (open loop: latency counts from the scheduled time, so a slow server cannot
hide its queue), realistic mix: scorecards of influencers picked with a Zipf-like popularity,
searches with filters, posts. Phase (b): the saturation requests/s of one authenticated cached
read beside a minimal FastAPI app returning constant JSON, same server, same worker count, same
run (closed loop, 64 connections each), reported with their ratio; and the load generator's own
capacity (`generator_rps`: the same closed loop against a server answering constant bytes
without parsing), which must stay well above what it measures.

Creates its own database on DATABASE_URL (default: local PostgreSQL) and its own redis-server
on a free port; drops and stops them at the end. The load generator is a minimal HTTP/1.1
client on asyncio written here: an HTTP library would cost the generator more CPU than the
server it measures; it runs on uvloop. Both servers keep idle connections 75 s (each user sends
a request every USERS / TARGET_RPS seconds), and the file-descriptor limit is raised to its
hard limit for the 10,000 connections. Last line of output: the JSON result (also written to
benchmarks/results/api_load.json). `--quick`: 1,000 influencers and users, short phases.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import random
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import uvloop

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from analisa.core.db import drop_database, migrate  # noqa: E402
from analisa.core.settings import Settings  # noqa: E402
from benchmarks.common import create_database  # noqa: E402
from benchmarks.common import server_url as measured_server  # noqa: E402
from serving_api.auth import TokenService  # noqa: E402
from serving_api.db_role import api_login_url  # noqa: E402

RESULT = ROOT / "benchmarks" / "results" / "api_load.json"
SATURATION_CONNECTIONS = 64
KEEP_ALIVE_SECONDS = 75
CONSTANT = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"

GOLD = """
create table gold.dim_influencers as
select case when i % 3 = 0 then 'tiktok' else 'instagram' end as platform,
       'acc' || i as account_id, 'user' || i as username,
       (1000 + (i * 7919) % 900000)::bigint as followers,
       round(((i * 37) % 1000) / 100.0, 4) as median_engagement_rate,
       round(((i * 41) % 1000) / 100.0, 4) as mean_engagement_rate,
       round(((i * 13) % 4000) / 100.0 - 10, 4) as followers_growth_30d_pct,
       round(((i * 17) % 100) / 100.0, 4) as sponsored_share,
       30::bigint as posts_collected,
       timestamptz '2026-10-01 00:00+00' as captured_at
from generate_series(1, %(n)s) as i;
create table gold.fct_post_engagement as
select d.platform, d.account_id, d.account_id || '_p' || p as post_id,
       timestamptz '2026-09-01 00:00+00' + p * interval '1 day' as posted_at,
       'IMAGE' as media_type, 'post ' || p || case when p % 5 = 0 then ' #publi' else '' end
         as caption,
       100 + p as likes, 10 as comments, 0 as shares,
       round((110 + p) * 100.0 / d.followers, 4) as engagement_rate_followers,
       p % 5 = 0 as is_sponsored, false as is_deleted,
       timestamptz '2026-10-01 00:00+00' as captured_at
from gold.dim_influencers d, generate_series(1, 30) as p;
create index on gold.fct_post_engagement (platform, account_id);
create table gold.audience_segments as
select d.platform, d.account_id, 'country' as dimension, c.segment,
       c.share, (c.share * d.followers)::bigint as followers_in_segment,
       timestamptz '2026-10-01 00:00+00' as captured_at
from gold.dim_influencers d,
     (values ('BR', 0.6), ('PT', 0.3), ('US', 0.1)) as c(segment, share)
where d.platform = 'instagram';
create index on gold.audience_segments (platform, account_id);
create unique index on gold.dim_influencers (platform, account_id);
"""

BARE_APP = """
from fastapi import FastAPI
bare_app = FastAPI()
@bare_app.get("/v1/constant")
async def constant():
    return {"platform": "instagram", "account_id": "acc1", "followers": 12345}
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_port(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port}")


# --- load generator (runs in its own process) -----------------------------------------------


class Connection:
    """One keep-alive HTTP/1.1 connection; one request at a time."""

    def __init__(self, port: int, headers: bytes) -> None:
        self.port = port
        self.headers = headers
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)

    async def get(self, path: str) -> tuple[int, str]:
        if self.writer is None:
            await self.open()
        self.writer.write(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode() + self.headers + b"\r\n"
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length, cache = 0, ""
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name = name.lower()
            if name == "content-length":
                length = int(value)
            elif name == "x-cache":
                cache = value.strip()
        if length:
            await self.reader.readexactly(length)
        return status, cache


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _open_loop(port, token, users, rps, seconds, warmup, paths, out) -> None:
    headers = f"Authorization: Bearer {token}\r\n".encode()
    conns = [Connection(port, headers) for _ in range(users)]
    for start in range(0, users, 500):  # connect in batches: the backlog is finite
        await asyncio.gather(*(c.open() for c in conns[start : start + 500]))
    idle = asyncio.Queue()
    for conn in conns:
        idle.put_nowait(conn)
    latencies, errors, caches = [], 0, {"hit": 0, "miss": 0, "bypass": 0}
    failures: dict[str, int] = {}
    done = warmup_errors = 0

    async def one(scheduled: float, path: str) -> None:
        nonlocal errors, warmup_errors, done
        measured = scheduled >= measured_from  # the warm-up's requests count apart
        conn = await idle.get()
        failure = None
        try:
            status, cache = await conn.get(path)
            if status != 200:
                failure = str(status)
            elif measured:
                caches[cache] = caches.get(cache, 0) + 1
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            failure = type(exc).__name__
            conn.writer = None
        finally:
            if failure is not None:
                failures[failure] = failures.get(failure, 0) + 1
                if measured:
                    errors += 1
                else:
                    warmup_errors += 1
            if measured:
                latencies.append(time.perf_counter() - scheduled)
                done += 1
            idle.put_nowait(conn)

    total = int(rps * (warmup + seconds))
    start = time.perf_counter() + 0.5
    measured_from = start + warmup
    tasks = []
    for n in range(total):
        scheduled = start + n / rps
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(scheduled, paths[n % len(paths)])))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - measured_from
    for conn in conns:
        if conn.writer is not None:
            conn.writer.close()
    looked_up = caches["hit"] + caches["miss"]
    out.put(
        {
            "users": users,
            "target_rps": rps,
            "achieved_rps": round(done / elapsed, 1),
            "p50_ms": round(_percentile(latencies, 0.50) * 1000, 2),
            "p95_ms": round(_percentile(latencies, 0.95) * 1000, 2),
            "p99_ms": round(_percentile(latencies, 0.99) * 1000, 2),
            "errors": errors,
            "cache_hit_ratio": round(caches["hit"] / looked_up, 4) if looked_up else 0.0,
            "cache_bypassed": caches["bypass"],  # answered from PostgreSQL: Redis skipped
            "warmup_errors": warmup_errors,
            "error_kinds": failures,
        }
    )


async def _closed_loop(port, headers, path, connections, seconds, out) -> None:
    conns = [Connection(port, headers) for _ in range(connections)]
    await asyncio.gather(*(c.open() for c in conns))
    stop = time.perf_counter() + seconds
    count, errors = 0, 0

    async def run(conn: Connection) -> None:
        nonlocal count, errors
        while time.perf_counter() < stop:
            status, _ = await conn.get(path)
            count += 1
            errors += status != 200

    started = time.perf_counter()
    await asyncio.gather(*(run(c) for c in conns))
    out.put({"rps": round(count / (time.perf_counter() - started), 1), "errors": errors})


def _generator(kind: str, args: tuple, out) -> None:
    uvloop.run((_open_loop if kind == "open" else _closed_loop)(*args, out))


class _Constant(asyncio.Protocol):
    """Answers every request with the same bytes: what the generator alone can drive."""

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.transport.write(CONSTANT * data.count(b"\r\n\r\n"))


def _constant_server(port: int) -> None:
    async def serve() -> None:
        server = await asyncio.get_running_loop().create_server(_Constant, "127.0.0.1", port)
        await server.serve_forever()

    uvloop.run(serve())


def _raise_fd_limit() -> None:
    """10,000 connections need more descriptors than the usual soft limit (1,024); children
    (the servers, the generator) inherit the raised limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else 65536
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def _in_process(kind: str, *args) -> dict:
    out = mp.Queue()
    process = mp.Process(target=_generator, args=(kind, args, out))
    process.start()
    result = out.get()
    process.join()
    return result


# --- the run ------------------------------------------------------------------------------------


def _mixed_paths(n: int, count: int, seed: int = 7) -> list[str]:
    """Scorecards 50 % (Zipf-like popularity), searches 30 %, posts 20 %."""
    rng = random.Random(seed)

    def influencer() -> str:
        i = min(n, int(rng.paretovariate(1.2)))  # a few influencers draw most views
        return f"{'tiktok' if i % 3 == 0 else 'instagram'}/acc{i}"

    searches = [
        "/v1/influencers",
        "/v1/influencers?platform=instagram&sort=followers",
        "/v1/influencers?country=BR&country_min_share=0.5&limit=50",
        "/v1/influencers?engagement_min=2&followers_min=10000&sort=growth",
        "/v1/influencers?sponsored_share_max=0.2&sort=-followers",
    ]
    paths = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.5:
            paths.append(f"/v1/influencers/{influencer()}")
        elif roll < 0.8:
            paths.append(rng.choice(searches))
        else:
            paths.append(f"/v1/influencers/{influencer()}/posts?order=top&limit=10")
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--warmup",
        type=float,
        default=None,
        help="seconds of the same open-loop load before phase (a) is measured, from a cold"
        " cache (default 5; 2 with --quick; 0: measure from the first request)",
    )
    args = parser.parse_args()
    _raise_fd_limit()
    n, users, rps, seconds, sat_seconds = (
        (1000, 1000, 300, 5, 4) if args.quick else (10_000, 10_000, 1000, 20, 10)
    )
    warmup = args.warmup if args.warmup is not None else (2 if args.quick else 5)
    server_url = measured_server()
    dbname, url = create_database(server_url, "bench_api")
    tmp = Path(tempfile.mkdtemp(prefix="analisa-api-load-"))
    processes: list[subprocess.Popen] = []
    try:
        migrate(url)
        with psycopg.connect(url) as conn:
            conn.execute(GOLD.replace("%(n)s", str(int(n))))
            workspace_id = conn.execute(
                "insert into ops.workspaces (name) values ('bench') returning workspace_id"
            ).fetchone()[0]
            conn.execute(
                "insert into ops.workspace_influencers (workspace_id, platform, account_id)"
                " select %s, platform, account_id from gold.dim_influencers",
                (workspace_id,),
            )
        redis_port, api_port, bare_port = _free_port(), _free_port(), _free_port()
        processes.append(
            subprocess.Popen(
                ["redis-server", "--port", str(redis_port), "--save", "", "--dir", str(tmp)],
                stdout=subprocess.DEVNULL,
            )
        )
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "ANALISA_API_DATABASE_URL": api_login_url(url),
            "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "ANALISA_API_RATE_LIMIT": "0",
            "ANALISA_LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
        processes.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "serving_api",
                    "--port",
                    str(api_port),
                    "--workers",
                    str(args.workers),
                    "--keep-alive",
                    str(KEEP_ALIVE_SECONDS),
                ],
                env=env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        (tmp / "bare.py").write_text(BARE_APP)
        processes.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "bare:bare_app",
                    "--app-dir",
                    str(tmp),
                    "--port",
                    str(bare_port),
                    "--workers",
                    str(args.workers),
                    "--log-level",
                    "warning",
                    "--no-server-header",
                    "--no-access-log",
                    "--timeout-keep-alive",
                    str(KEEP_ALIVE_SECONDS),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        constant_port = _free_port()
        constant = mp.Process(target=_constant_server, args=(constant_port,), daemon=True)
        constant.start()
        for port in (redis_port, api_port, bare_port, constant_port):
            _wait_port(port)
        time.sleep(2)  # the workers open their pools
        token, _ = TokenService(Settings()).issue(
            subject="bench",
            workspace_id=workspace_id,
            workspace="bench",
            role="viewer",
            ttl_seconds=3600,
        )
        paths = _mixed_paths(n, int(rps * (warmup + seconds)))
        phase_a = _in_process("open", api_port, token, users, rps, seconds, warmup, paths)

        cached = "/v1/influencers/instagram/acc1"
        auth = f"Authorization: Bearer {token}\r\n".encode()
        _in_process("closed", api_port, auth, cached, 4, 1)  # warm the entry
        api_sat = _in_process("closed", api_port, auth, cached, SATURATION_CONNECTIONS, sat_seconds)
        bare_sat = _in_process(
            "closed", bare_port, b"", "/v1/constant", SATURATION_CONNECTIONS, sat_seconds
        )
        generator = _in_process(
            "closed", constant_port, auth, cached, SATURATION_CONNECTIONS, sat_seconds
        )
        constant.terminate()
        result = {
            **phase_a,
            "saturation_rps": api_sat["rps"],
            "bare_rps": bare_sat["rps"],
            "saturation_ratio": round(api_sat["rps"] / bare_sat["rps"], 3),
            "saturation_errors": api_sat["errors"] + bare_sat["errors"],
            "generator_rps": generator["rps"],
            "influencers": n,
            "workers": args.workers,
            "phase_a_seconds": seconds,
            "phase_a_warmup_seconds": warmup,
            "saturation_seconds": sat_seconds,
            "saturation_connections": SATURATION_CONNECTIONS,
            "quick": args.quick,
            "targets": "p95 < 100 ms, p99 < 250 ms, 0 errors, saturation_rps >= 0.5 x bare_rps",
        }
    finally:
        for process in reversed(processes):
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        drop_database(server_url, dbname)
        shutil.rmtree(tmp, ignore_errors=True)
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
