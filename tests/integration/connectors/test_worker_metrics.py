"""The worker's Prometheus endpoint, scraped over HTTP while a worker collects the sandbox
through a real RabbitMQ: every call counted under its platform, endpoint and outcome (equal to
the answers bronze kept), a throttle counted under its class, task latency per task, and the
queue depth gauge equal to the messages waiting."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter

import httpx
import pika
import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families

from connectors import metrics
from connectors.collector import Collector
from connectors.outbox import pending_work, schedule
from connectors.planner import plan
from connectors.queue import RabbitQueue
from connectors.rate_budget import RateBudget
from connectors.tasks import CollectionTask, Outcome
from connectors.worker import Worker, WorkerOptions
from sandbox.world import SandboxConfig
from tests.integration.connectors.conftest import connect_world

Samples = dict[tuple[str, frozenset], float]


def scrape(port: int) -> Samples:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    out: Samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sum of `name` over the samples whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


def delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def by_labels(before: Samples, after: Samples, name: str, *keys: str) -> Counter:
    """{label values: increase} of a counter, zero increases left out."""
    out: Counter = Counter()
    for (n, ls), v in after.items():
        if n != name:
            continue
        d = v - before.get((n, ls), 0.0)
        if d:
            labels = dict(ls)
            out[tuple(labels[k] for k in keys)] += d
    return out


def _run_in_thread(worker: Worker, until) -> threading.Thread:
    thread = threading.Thread(target=worker.run, kwargs={"until": until}, daemon=True)
    thread.start()
    return thread


def test_scraped_counters_equal_the_calls_made_and_a_throttle_is_counted_as_one(
    db_url, amqp_url, rabbit_prefix, monkeypatch
):
    # small hourly limits, so the usage headers say more than 0 %
    config = SandboxConfig(
        seed=3,
        influencers_per_platform=1,
        posts_per_influencer=4,
        instagram_app_calls_per_hour=50,
        instagram_buc_calls_per_hour=50,
    )
    sandbox, settings = connect_world(config, db_url, monkeypatch)
    server = metrics.serve(0)
    port = server.server_port
    try:
        sandbox.world.inject_fault("instagram", "media", "throttle", count=1)
        # one clock for the worker, the collector and the budget; once the throttle is in the
        # ledger it jumps past the platform's five minutes, so the retry runs now
        shift = {"s": 0.0}

        def clock() -> float:
            return time.time() + shift["s"]

        def until() -> bool:
            if not shift["s"]:
                with psycopg.connect(db_url) as conn:
                    waited = conn.execute(
                        "select count(*) from bronze.collection_ledger where outcome = 'retry'"
                    ).fetchone()[0]
                if waited:
                    shift["s"] = 600.0
            return pending_work(db_url) == 0

        plan(db_url, "run-metrics", clock(), due_only=False)
        budget = RateBudget(clock=clock)
        collector = Collector(settings, db_url, budget=budget, clock=clock)
        options = WorkerOptions(prefix=rabbit_prefix, queue_sample_seconds=0.2)
        worker = Worker(amqp_url, db_url, collector, options, clock=clock)
        before = scrape(port)
        thread = _run_in_thread(worker, until)
        thread.join(120)
        assert not thread.is_alive()
        after = scrape(port)
    finally:
        server.shutdown()
        sandbox.stop()

    with psycopg.connect(db_url) as conn:
        kept = conn.execute(
            "select platform, endpoint, count(*) from bronze.raw_records group by 1, 2"
        ).fetchall()
        ledger = conn.execute(
            "select outcome, count(*) from bronze.collection_ledger group by 1"
        ).fetchall()
    calls = by_labels(before, after, "analisa_worker_platform_calls_total", "platform", "endpoint")
    # every answer the worker got is one call counted, endpoint by endpoint
    assert calls == Counter({(p, e): n for p, e, n in kept})
    # the sandbox's TikTok account: user info and one page of four videos
    assert calls[("tiktok", "user_info")] == 1 and calls[("tiktok", "video_list")] == 1
    # the media page twice: throttled once, then answered on the retry
    assert calls[("instagram", "media")] == 2
    throttled = delta(
        before, after, "analisa_worker_platform_calls_total", endpoint="media", outcome="throttled"
    )
    assert throttled == 1
    errors = by_labels(
        before, after, "analisa_worker_platform_errors_total", "platform", "error_class"
    )
    assert errors == Counter({("instagram", "throttled"): 1})
    # the platform's code 4 blocks the whole app: one event, scope named by kind, no account id
    events = by_labels(
        before, after, "analisa_worker_throttle_events_total", "platform", "scope", "source"
    )
    assert events[("instagram", "app", "platform")] == 1
    assert dict(ledger) == {"done": 2, "retry": 1}
    tasks = by_labels(before, after, "analisa_worker_tasks_total", "outcome")
    assert tasks == Counter({("done",): 2, ("wait",): 1})
    # the throttled task was put off by the five minutes the platform said
    assert delta(
        before, after, "analisa_worker_throttle_wait_seconds_total", how="rescheduled"
    ) == pytest.approx(300.0, abs=1.0)
    assert delta(before, after, "analisa_worker_task_latency_seconds_count") == 3
    assert delta(before, after, "analisa_worker_task_handling_seconds_count") == 3
    # latency runs from enqueue to done, so it is never shorter than the handling
    assert delta(before, after, "analisa_worker_task_latency_seconds_sum") >= delta(
        before, after, "analisa_worker_task_handling_seconds_sum"
    )
    # quota used: what the last usage headers said, as the budget holds it (the account
    # scope under its kind, not its id); TikTok's window: 1 call of 600 a minute per endpoint
    ig_account = sandbox.world.accounts("instagram")[0].account_id
    app_key = (
        "analisa_worker_quota_used_percent",
        frozenset({("platform", "instagram"), ("scope", "app")}),
    )
    # the sandbox meters only Business Discovery against the app: 0 % after the throttle's 100 %
    assert after[app_key] == budget.usage("instagram:app") == 0
    account_used = value(
        after, "analisa_worker_quota_used_percent", platform="instagram", scope="account"
    )
    assert account_used == budget.usage(f"instagram:account:{ig_account}") > 0
    tiktok_used = value(
        after,
        "analisa_worker_quota_used_percent",
        platform="tiktok",
        scope="endpoint:video_list",
    )
    assert tiktok_used == pytest.approx(100 / 600)
    account_ids = {a.account_id for p in ("instagram", "tiktok") for a in sandbox.world.accounts(p)}
    for _, labels in after:
        assert not {v for _, v in labels} & account_ids


def test_queue_depth_gauge_equals_the_messages_published(db_url, amqp_url, rabbit_prefix):
    queue = RabbitQueue(amqp_url, prefix=rabbit_prefix)
    try:
        for n in range(7):
            queue.publish(CollectionTask("tiktok", f"depth-{n}", "r-depth"))
    finally:
        queue.close()
    with psycopg.connect(db_url) as conn, conn.transaction():
        for n in range(2):  # planned for later: the outbox holds them
            schedule(conn, CollectionTask("tiktok", f"later-{n}", "r-later"), time.time() + 3600)
    release = threading.Event()
    seen: list[str] = []

    def held(task):
        seen.append(task.task_id)
        release.wait(30)
        return Outcome.done()

    server = metrics.serve(0)
    port = server.server_port
    worker = Worker(
        amqp_url, db_url, held, WorkerOptions(prefix=rabbit_prefix, queue_sample_seconds=0.2)
    )
    before = scrape(port)
    thread = _run_in_thread(worker, until=lambda: len(seen) == 7 and worker.queue_depth() == 0)
    try:
        deadline = time.time() + 20
        while not seen and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(0.6)  # at least two samples while the first task is held
        during = scrape(port)
        release.set()
        thread.join(60)
        assert not thread.is_alive()
        # the worker's channel is closed now: one more sample through a channel of our own
        conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
        try:
            metrics.sample_queue(conn.channel(), f"{rabbit_prefix}.collect")
        finally:
            conn.close()
        after = scrape(port)
    finally:
        release.set()
        server.shutdown()
    queue_name = f"{rabbit_prefix}.collect"
    # prefetch 1: one message held by the worker (unacked), six ready
    assert value(during, "analisa_queue_messages_ready", queue=queue_name) == 6
    assert value(during, "analisa_worker_tasks_in_progress") == 1
    assert value(during, "analisa_queue_consumers", queue=queue_name) == 1
    assert value(during, "analisa_queue_scheduled_tasks", state="waiting") == 2
    assert value(during, "analisa_queue_scheduled_tasks", state="due") == 0
    assert value(after, "analisa_queue_messages_ready", queue=queue_name) == 0
    assert value(after, "analisa_worker_tasks_in_progress") == 0
    assert delta(before, after, "analisa_worker_tasks_total", outcome="done") == 7
    assert delta(before, after, "analisa_worker_task_latency_seconds_count") == 7


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_analisa_worker_serves_its_metrics_on_the_port_it_is_given(db_url, amqp_url, rabbit_prefix):
    port = _free_port()
    env = dict(os.environ)
    env.update(
        DATABASE_URL=db_url, AMQP_URL=amqp_url, ANALISA_QUEUE_PREFIX=rabbit_prefix, COLUMNS="200"
    )
    env.pop("ANALISA_WORKER_METRICS_PORT", None)
    code = f"from analisa.cli.main import app\napp(['worker', '--metrics-port', '{port}'])\n"
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        samples: Samples = {}
        deadline = time.time() + 60
        while time.time() < deadline and proc.poll() is None:
            try:
                samples = scrape(port)
            except httpx.TransportError:
                time.sleep(0.2)
                continue
            if value(samples, "analisa_queue_consumers", queue=f"{rabbit_prefix}.collect"):
                break
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out.decode()[-2000:]
    assert f"metrics on http://127.0.0.1:{port}/metrics".encode() in out
    assert value(samples, "analisa_queue_consumers", queue=f"{rabbit_prefix}.collect") == 1
    assert value(samples, "analisa_queue_messages_ready", queue=f"{rabbit_prefix}.collect") == 0
    assert ("process_resident_memory_bytes", frozenset()) in samples


@pytest.mark.parametrize("shared", [True, False], ids=["redis", "in-process"])
def test_window_quota_is_the_calls_in_the_window_over_its_limit(shared, request):
    """A window of 4 calls a minute shared by three workers' budgets (through Redis, or one
    budget in process): the fill counts every worker's calls, and a 5th call must wait (not
    inline: longer than a second here)."""
    from connectors.rate_budget import MustWait, Scope

    clock = {"now": 1_000_000.0}
    if shared:
        import redis

        client = redis.Redis.from_url(request.getfixturevalue("redis_url"))
        prefix = request.getfixturevalue("redis_prefix")
        budgets = [
            RateBudget(client, prefix, clock=lambda: clock["now"], max_inline_wait=1.0)
            for _ in range(3)
        ]
    else:
        budgets = [RateBudget(clock=lambda: clock["now"], max_inline_wait=1.0)] * 3
    scope = Scope("tiktok:endpoint:video_list", window_limit=4, window_seconds=60.0)
    for i in range(3):
        budgets[i].acquire([scope])
        clock["now"] += 1.0
    assert budgets[2].window_fill[scope.key] == 3  # the calls of all three, not its own one
    budgets[0].acquire([scope])
    assert budgets[0].window_fill[scope.key] == 4
    with pytest.raises(MustWait) as waited:
        budgets[1].acquire([scope])
    # the oldest call (t=0) leaves the window at t=60; now is t=3
    assert waited.value.seconds == pytest.approx(57.0, abs=0.01)
