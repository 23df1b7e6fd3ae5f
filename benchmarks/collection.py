"""Collection under real limits: several workers, shared budgets, SIGKILLs and a broker drop.

Starts a time-scaled sandbox (an hour of limits passes in `3600 / scale` seconds) whose
Instagram app allows fewer calls per hour than the run needs (every call metered against the
app, as on the platform) and whose accounts each have their own hourly budget, connects every
sandbox account, plans one round each, and runs worker processes (`analisa worker`'s loop) on
RabbitMQ through a TCP proxy. Two scenarios, each on its own database: `normal` (30 calls an
hour per account, more than a first round's 27) and `small_account_budget` (20 an hour,
`--small-account-limit`: every round finishes in pieces an hour apart). Under the app's limit
rounds take turns (connectors/rounds.py: five calls, then the worker goes to the next account's
due work), so every account starts in the first window; before, the accounts started last
needed a window more than the app's limit did (0.72 instead of 0.96). Stories are not collected
here (`--stories` to include them): a first round stays the 27 calls the limits are sized for.
During each run one worker is SIGKILLed twice (and started again) and every broker connection
is cut once. Then, from bronze, the ledger and the outbox:

- quota_utilisation: useful successful Instagram calls ÷ the calls the app limit allowed over
  the run (a sliding hour: limit × (whole hours spanned + 1));
- calls_before_retry_time: calls answered with a throttle (made inside a scope's block);
- records_lost / records_duplicated: accounts never finished; answers stored twice;
- parked_for_throttling: tasks parked for a throttle (waits never use attempts);
- ig_calls_per_round_100_posts / _1000_posts: steady-state rounds (a second round 6 h later),
  and influencers_fresh_per_worker_6h at 200 ms per call, amortised over a week of rounds
  (older posts' insights weekly, a complete listing daily).
The small-budget scenario's keys are under `small_account_budget`.
Uses DATABASE_URL, REDIS_URL, AMQP_URL (defaults: the local services), its own database,
key prefix and queue names, all removed at the end. Last line: the JSON result (also written
to benchmarks/results/collection.json). `--quick`: fewer accounts, under two minutes.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.common import create_database, publish, server_url

DB = server_url()
REDIS = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
AMQP = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
SECONDS_PER_CALL = 0.2
THROTTLE_CODES = ("4", "17", "32", "613", "80002", "rate_limit_exceeded")


class ScaledClock:
    """Sandbox time: `t_ref` at real `r_ref`, running `scale` times faster."""

    def __init__(self, t_ref: float, r_ref: float, scale: float):
        self.t_ref, self.r_ref, self.scale = t_ref, r_ref, scale

    def __call__(self) -> float:
        return self.t_ref + (time.time() - self.r_ref) * self.scale

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds) / self.scale)

    def sandbox_time(self, epoch: float) -> float:
        """The sandbox time of a real epoch (bronze's fetched_at is real time)."""
        return self.t_ref + (epoch - self.r_ref) * self.scale


# -- the worker process --------------------------------------------------------------------
def worker_main(db_url, prefix, amqp_url, redis_prefix, t_ref, r_ref, scale, name) -> None:
    import redis

    from analisa.core.settings import Settings
    from connectors.collector import Collector
    from connectors.outbox import pending_work
    from connectors.rate_budget import RateBudget
    from connectors.worker import Worker, WorkerOptions

    clock = ScaledClock(float(t_ref), float(r_ref), float(scale))
    budget = RateBudget(
        redis.Redis.from_url(REDIS), prefix=redis_prefix, clock=clock, sleep=clock.sleep
    )
    collector = Collector(Settings(), db_url, budget=budget, clock=clock)
    options = WorkerOptions(prefix=prefix, backoff_initial_seconds=0.2, name=name, grace_seconds=5)
    worker = Worker(amqp_url, db_url, collector, options, clock=clock)
    signal.signal(signal.SIGTERM, lambda *_: worker.stop())
    worker.run(until=lambda: pending_work(db_url) == 0)


# -- a broker proxy whose connections can be cut ---------------------------------------------
class DropProxy:
    def __init__(self, host: str, port: int):
        self._target = (host, port)
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port = self._listener.getsockname()[1]
        self._pairs: list = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self._target)
            with self._lock:
                self._pairs.append((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src, dst) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.close()

    def drop_all(self) -> int:
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            for s in pair:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                    s.close()
                except OSError:
                    pass
        return len(pairs)

    def close(self) -> None:
        self._listener.close()
        self.drop_all()


def _proxied(amqp_url: str, port: int) -> str:
    parts = urlsplit(amqp_url)
    auth = parts.netloc.rsplit("@", 1)
    netloc = f"{auth[0]}@127.0.0.1:{port}" if len(auth) == 2 else f"127.0.0.1:{port}"
    return urlunsplit(parts._replace(netloc=netloc))


# -- the run -------------------------------------------------------------------------------
def _connect(sandbox, db_url):
    import httpx

    from analisa.cli.sandbox_accounts import connect_sandbox_accounts
    from analisa.core.settings import Settings
    from connectors.token_store import save_token, vault_for

    for key, value in sandbox.settings_overrides().items():
        os.environ[key] = value
    settings = Settings()
    with httpx.Client(timeout=30) as http:
        connections = connect_sandbox_accounts(settings, http)
    vault = vault_for(settings)
    with psycopg.connect(db_url) as conn, conn.transaction():
        for c in connections:
            save_token(conn, vault, c.token, username=c.username)
    return settings


def _align(world) -> None:
    """Sandbox time = real time at the start, so token lifetimes agree on both sides."""
    world.move_clock(timedelta(seconds=time.time() - world.now().timestamp()))


def run_workers(db_url: str, args) -> dict:
    from connectors.outbox import pending_work
    from connectors.planner import plan
    from sandbox.server import SandboxServer
    from sandbox.world import SandboxConfig

    config = SandboxConfig(
        seed=11,
        influencers_per_platform=args.accounts,
        posts_per_influencer=args.posts,
        low_follower_accounts=0,
        instagram_buc_calls_per_hour=args.account_limit,
        instagram_app_calls_per_hour=args.app_limit,
        instagram_app_counts_every_call=True,
        tiktok_requests_per_minute=args.tiktok_limit,
        time_scale=args.scale,
    )
    prefix = f"analisa-bench-{uuid.uuid4().hex[:8]}"
    redis_prefix = f"analisa-bench:{uuid.uuid4().hex[:8]}:"
    parts = urlsplit(AMQP)
    proxy = DropProxy(parts.hostname or "127.0.0.1", parts.port or 5672)
    amqp = _proxied(AMQP, proxy.port)
    procs: dict[str, subprocess.Popen] = {}
    kills = drops = 0
    with SandboxServer(config) as sandbox:
        _align(sandbox.world)
        _connect(sandbox, db_url)
        r_ref = time.time()
        t_ref = sandbox.world.now().timestamp()
        clock = ScaledClock(t_ref, r_ref, args.scale)
        planned = plan(db_url, "bench", clock(), due_only=False)
        env = dict(
            os.environ,
            TIKTOK_RATE_SCOPE="app",
            TIKTOK_REQUESTS_PER_MINUTE=str(args.tiktok_limit),
            INSTAGRAM_STORIES="true" if args.stories else "false",
        )

        def spawn(name: str) -> None:
            procs[name] = subprocess.Popen(
                [
                    sys.executable,
                    __file__,
                    "--worker",
                    db_url,
                    prefix,
                    amqp,
                    redis_prefix,
                    str(t_ref),
                    str(r_ref),
                    str(args.scale),
                    name,
                ],
                env=env,
            )

        for i in range(args.workers):
            spawn(f"w{i}")
        started = time.time()
        events = [(0.25, "kill"), (0.45, "drop"), (0.6, "kill")]
        expected_s = args.expected_seconds
        while pending_work(db_url) > 0 and time.time() - started < args.timeout:
            elapsed = (time.time() - started) / expected_s
            while events and elapsed >= events[0][0]:
                _, what = events.pop(0)
                if what == "kill":
                    victim = procs["w0"]
                    victim.send_signal(signal.SIGKILL)
                    victim.wait()
                    kills += 1
                    spawn("w0")
                else:
                    drops += proxy.drop_all()
            time.sleep(0.2)
        run_s = time.time() - started
        for p in procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs.values():
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
        proxy.close()
    _cleanup_broker(prefix)
    _cleanup_redis(redis_prefix)
    return _measure(db_url, planned, clock, args, run_s, kills, drops)


def _measure(db_url, planned, clock, args, run_s, kills, drops) -> dict:
    with psycopg.connect(db_url) as conn:
        ig = conn.execute(
            "select fetched_at, http_status, body -> 'error' ->> 'code' from bronze.raw_records "
            "where platform = 'instagram' order by fetched_at"
        ).fetchall()
        throttled = conn.execute(
            "select count(*) from bronze.raw_records where coalesce(body -> 'error' ->> 'code', "
            "'') = any(%s)",
            (list(THROTTLE_CODES),),
        ).fetchone()[0]
        by_code = conn.execute(
            "select platform || ':' || (body -> 'error' ->> 'code'), count(*) "
            "from bronze.raw_records where coalesce(body -> 'error' ->> 'code', '') = any(%s) "
            "group by 1 order by 1",
            (list(THROTTLE_CODES),),
        ).fetchall()
        done = conn.execute(
            "select platform, account_id, count(*) from bronze.collection_ledger "
            "where outcome = 'done' group by 1, 2"
        ).fetchall()
        twice = conn.execute(
            "select coalesce(sum(n - 1), 0) from (select count(*) n from bronze.raw_records "
            "group by task_id, request having count(*) > 1) d"
        ).fetchone()[0]
        parked = conn.execute(
            "select count(*) filter (where detail ilike '%%throttl%%'), count(*) "
            "from bronze.collection_ledger where outcome = 'park'"
        ).fetchone()
        waits = conn.execute(
            "select count(*) from bronze.collection_ledger where outcome = 'retry'"
        ).fetchone()[0]
    useful = sum(1 for _, status, code in ig if status == 200 and code is None)
    span_h = (
        clock.sandbox_time(ig[-1][0].timestamp()) - clock.sandbox_time(ig[0][0].timestamp())
    ) / 3600
    allowed = args.app_limit * (int(span_h) + 1)
    finished = {(p, a) for p, a, _ in done}
    lost = sum(1 for p in planned if (p.task.platform, p.task.account_id) not in finished)
    extra_done = sum(n - 1 for _, _, n in done)
    return {
        "workers": args.workers,
        "accounts": len(planned),
        "time_scale": args.scale,
        "app_calls_per_hour": args.app_limit,
        "account_calls_per_hour": args.account_limit,
        "ig_useful_calls": useful,
        "ig_span_hours": round(span_h, 2),
        "ig_calls_allowed": allowed,
        "quota_utilisation": round(useful / allowed, 3),
        "calls_before_retry_time": throttled,
        "throttled_answers_by_code": dict(by_code),
        "records_lost": lost,
        "records_duplicated": int(twice) + extra_done,
        "parked_for_throttling": parked[0],
        "parked": parked[1],
        "waits_committed": waits,
        "sigkills": kills,
        "broker_connections_cut": drops,
        "run_seconds": round(run_s, 1),
    }


def _cleanup_broker(prefix: str) -> None:
    import pika

    conn = pika.BlockingConnection(pika.URLParameters(AMQP))
    try:
        conn.channel().queue_delete(f"{prefix}.collect")
    finally:
        conn.close()


def _cleanup_redis(prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(REDIS)
    keys = list(client.scan_iter(match=prefix + "*"))
    if keys:
        client.delete(*keys)


# -- calls per round ------------------------------------------------------------------------
def calls_per_round(db_url: str, posts: int) -> dict:
    """A first round, then a steady-state round 6 h later, of one Instagram account."""
    import connectors.instagram.client as ig_client
    from analisa.core.settings import Settings
    from connectors.collection_run import run_collection
    from connectors.queue import InProcessQueue
    from connectors.rate_budget import RateBudget
    from sandbox.server import SandboxServer
    from sandbox.world import SandboxConfig

    config = SandboxConfig(seed=5, influencers_per_platform=1, posts_per_influencer=posts)
    made: list[str] = []
    real = ig_client.fetch_record

    def counting(*a, **k):
        made.append(k["endpoint"])
        return real(*a, **k)

    ig_client.fetch_record = counting
    try:
        with SandboxServer(config) as sandbox:  # at its own time: its posts are recent
            settings = _connect(sandbox, db_url)
            world = sandbox.world

            class Clock:
                now = world.now().timestamp()

                def __call__(self):
                    return self.now

                def sleep(self, s):
                    self.now += s
                    world.move_clock(timedelta(seconds=s))

            clock = Clock()
            settings = Settings()

            def one_round() -> int:
                before = len(made)
                run_collection(
                    settings,
                    db_url,
                    ("instagram",),
                    queue=InProcessQueue(clock, clock.sleep),
                    budget=RateBudget(clock=clock, sleep=clock.sleep),
                    clock=clock,
                )
                return len(made) - before

            first = one_round()
            clock.sleep(6 * 3600)
            steady = one_round()
    finally:
        ig_client.fetch_record = real
    # a week of 6-hourly rounds: one does the older posts' insights (like the first round)
    amortised = (27 * steady + first) / 28
    return {"first": first, "steady": steady, "amortised": round(amortised, 2)}


def _fresh_db() -> tuple[str, str]:
    from analisa.core.db import migrate

    name, url = create_database(DB, "bench")
    migrate(url)
    return name, url


def _drop_db(name: str) -> None:
    from analisa.core.db import drop_database

    drop_database(DB, name)


def main() -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--accounts", type=int, default=16, help="per platform")
    parser.add_argument("--posts", type=int, default=20)
    parser.add_argument("--app-limit", type=int, default=150)
    parser.add_argument("--account-limit", type=int, default=30)
    parser.add_argument(
        "--small-account-limit",
        type=int,
        default=None,
        help="per account per hour in the second scenario (default 20; 0, or --quick: skip it)",
    )
    parser.add_argument("--stories", action="store_true", help="collect live stories too")
    parser.add_argument("--tiktok-limit", type=int, default=10, help="per endpoint per minute")
    parser.add_argument("--scale", type=float, default=120.0)
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--worker", nargs=8, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker_main(*args.worker)
        return {}
    if args.quick:  # 8 accounts x 27 calls = 216 for 75 an hour: a third window, nearly full
        args.accounts, args.app_limit = 8, 75
    if args.small_account_limit is None:
        args.small_account_limit = 0 if args.quick else 20
    # a first round is 27 calls (profile, 1 page, 20 insights, 5 breakdowns) per account
    needed = args.accounts * (2 + args.posts + 5)
    args.expected_seconds = max(10.0, (needed / args.app_limit) * 3600 / args.scale)
    os.environ["INSTAGRAM_STORIES"] = "true" if args.stories else "false"

    def scenario(limit: int) -> dict:
        name, url = _fresh_db()
        try:
            return run_workers(url, argparse.Namespace(**{**vars(args), "account_limit": limit}))
        finally:
            _drop_db(name)

    result = scenario(args.account_limit)
    if args.small_account_limit:
        small = scenario(args.small_account_limit)
        result["small_account_budget"] = {k: v for k, v in small.items() if k != "workers"}
    rounds = {}
    for posts in (100, 1000):
        name, url = _fresh_db()
        try:
            rounds[posts] = calls_per_round(url, posts)
        finally:
            _drop_db(name)
    result = {
        "benchmark": "collection",
        **result,
        "ig_calls_per_round_100_posts": rounds[100]["steady"],
        "ig_calls_per_round_1000_posts": rounds[1000]["steady"],
        "ig_calls_first_round_100_posts": rounds[100]["first"],
        "ig_calls_first_round_1000_posts": rounds[1000]["first"],
        "ig_calls_per_round_100_posts_amortised_week": rounds[100]["amortised"],
        "influencers_fresh_per_worker_6h": int(
            6 * 3600 / SECONDS_PER_CALL / rounds[100]["amortised"]
        ),
    }
    out = Path(__file__).resolve().parent / "results" / "collection.json"
    return publish(result, out)


if __name__ == "__main__":
    main()
