"""The standalone worker on a real RabbitMQ: heartbeats through long tasks, reconnection after
the broker connection drops mid-run (0 lost), SIGTERM finishing or requeueing the task, and
the planner's order and its one-task-per-account rule."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pika
import psycopg

from connectors.collector import Collector
from connectors.outbox import pending_work, schedule
from connectors.planner import plan
from connectors.tasks import CollectionTask, Outcome
from connectors.worker import Worker, WorkerOptions
from sandbox.world import SandboxConfig
from tests.integration.connectors.conftest import connect_world


def _in_queue(amqp_url: str, prefix: str) -> int:
    conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        return conn.channel().queue_declare(f"{prefix}.collect", passive=True).method.message_count
    finally:
        conn.close()


def _run_in_thread(worker: Worker, until=None) -> threading.Thread:
    thread = threading.Thread(target=worker.run, kwargs={"until": until}, daemon=True)
    thread.start()
    return thread


def test_long_task_keeps_its_heartbeat_and_is_acked_once(amqp_url, db_url, rabbit_prefix):
    """A 7 s task with a 2 s heartbeat: the broker keeps the connection, one delivery."""
    calls: list[str] = []

    def slow(task):
        calls.append(task.task_id)
        time.sleep(7)
        return Outcome.done()

    with psycopg.connect(db_url) as conn, conn.transaction():
        schedule(conn, CollectionTask("tiktok", "slow", "r"), time.time())
    options = WorkerOptions(prefix=rabbit_prefix, heartbeat_seconds=2)
    worker = Worker(amqp_url, db_url, slow, options)
    thread = _run_in_thread(worker, until=lambda: worker.stats.done >= 1)
    thread.join(30)
    assert not thread.is_alive()
    assert calls == ["r:tiktok:slow:a0"]
    assert worker.reconnects == 0
    assert _in_queue(amqp_url, rabbit_prefix) == 0


def test_dropped_connections_reconnect_and_lose_nothing(
    db_url, amqp_url, rabbit_prefix, broker_proxy, monkeypatch
):
    config = SandboxConfig(seed=5, influencers_per_platform=3, posts_per_influencer=6)
    sandbox, settings = connect_world(config, db_url, monkeypatch)
    try:
        plan(db_url, "run-drop", time.time(), due_only=False)
        collector = Collector(settings, db_url)
        real = collector.handle

        def slowed(task):  # long enough for the drops to land mid-task
            time.sleep(0.4)
            return real(task)

        options = WorkerOptions(prefix=rabbit_prefix, backoff_initial_seconds=0.2)
        workers = [Worker(broker_proxy.url(amqp_url), db_url, slowed, options) for _ in range(2)]
        threads = [_run_in_thread(w, until=lambda: pending_work(db_url) == 0) for w in workers]
        dropped = 0
        for _ in range(3):
            time.sleep(0.7)
            dropped += broker_proxy.drop_all()
        for t in threads:
            t.join(90)
        assert not any(t.is_alive() for t in threads)
    finally:
        sandbox.stop()
    assert dropped >= 2
    assert sum(w.reconnects for w in workers) >= 2
    with psycopg.connect(db_url) as conn:
        done = conn.execute(
            "select count(distinct (platform, account_id)), count(*) "
            "from bronze.collection_ledger where outcome = 'done'"
        ).fetchone()
        twice = conn.execute(
            "select count(*) from (select task_id, request from bronze.raw_records "
            "group by 1, 2 having count(*) > 1) d"
        ).fetchone()[0]
    assert done == (6, 6)  # every account once: 0 lost
    assert twice == 0  # 0 duplicated


def test_sigterm_finishes_the_running_task_then_exits(amqp_url, db_url, rabbit_prefix):
    """The real `analisa worker` process: SIGTERM mid-task → the task completes, is acked."""
    with psycopg.connect(db_url) as conn, conn.transaction():
        conn.execute("insert into ops.accounts (platform, account_id) values ('tiktok', 'nobody')")
        schedule(conn, CollectionTask("tiktok", "nobody", "r-term"), time.time())
    env = dict(os.environ)
    env.update(
        DATABASE_URL=db_url,
        AMQP_URL=amqp_url,
        ANALISA_QUEUE_PREFIX=rabbit_prefix,
        ANALISA_WORKER_GRACE_SECONDS="20",
    )
    # a handler that takes 3 s: the account has no token, parks; slowed by a sitecustomize-free
    # hook: the collector's commit is delayed through an environment-selected test module
    code = (
        "import time, connectors.collector as c\n"
        "real = c.Collector._commit\n"
        "def slow(self, *a):\n"
        "    time.sleep(3)\n"
        "    return real(self, *a)\n"
        "c.Collector._commit = slow\n"
        "from analisa.cli.main import app\n"
        "app(['worker', '--name', 'term-test'])\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            with psycopg.connect(db_url) as conn:
                started = conn.execute(
                    "select published_at is not null from ops.collection_outbox"
                ).fetchone()[0]
            if started:
                break
            time.sleep(0.2)
        time.sleep(1.0)  # the task is running (3 s)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out.decode()[-2000:]
    assert b"1 parked" in out
    with psycopg.connect(db_url) as conn:
        ledger = conn.execute("select task_id, outcome from bronze.collection_ledger").fetchall()
    assert ledger == [("r-term:tiktok:nobody:a0", "park")]
    assert _in_queue(amqp_url, rabbit_prefix) == 0  # acked, not requeued


def test_past_the_grace_period_the_task_goes_back_to_the_broker(amqp_url, db_url, rabbit_prefix):
    release = threading.Event()

    def stuck(task):
        release.wait(20)
        return Outcome.done()

    with psycopg.connect(db_url) as conn, conn.transaction():
        schedule(conn, CollectionTask("tiktok", "stuck", "r"), time.time())
    worker = Worker(amqp_url, db_url, stuck, WorkerOptions(prefix=rabbit_prefix, grace_seconds=1))
    thread = _run_in_thread(worker)
    deadline = time.time() + 20
    while not worker.busy and time.time() < deadline:
        time.sleep(0.1)
    worker.stop()
    time.sleep(2.5)
    release.set()
    thread.join(20)
    assert not thread.is_alive()
    assert _in_queue(amqp_url, rabbit_prefix) == 1  # requeued for another worker


def test_planner_orders_never_collected_then_stalest_and_never_plans_twice(db_url):
    now = time.time()
    with psycopg.connect(db_url) as conn, conn.transaction():
        for account in ("fresh", "stale", "new", "busy", "parked", "reauth"):
            conn.execute(
                "insert into ops.accounts (platform, account_id) values ('instagram', %s)",
                (account,),
            )
        rows = [
            ("fresh", "now() - interval '7 hours'", "now() - interval '1 hour'", None, None, False),
            (
                "stale",
                "now() - interval '2 days'",
                "now() - interval '30 hours'",
                None,
                None,
                False,
            ),
            ("busy", "now() - interval '2 days'", "now() - interval '30 hours'", "x", None, False),
            ("parked", None, None, None, "p", False),
            ("reauth", None, None, None, None, True),
        ]
        for account, success, due, pending, parked, reauth in rows:
            conn.execute(
                "insert into ops.account_state (platform, account_id, last_success_at, "
                f"next_due_at, pending_task_id, parked_task_id, needs_reauth) values "
                f"('instagram', %s, {success or 'null'}, {due or 'null'}, %s, %s, %s)",
                (account, pending, parked, reauth),
            )
    planned = plan(db_url, "p1", now, interval_seconds=6 * 3600)
    assert [(p.task.account_id, p.why, p.task.priority) for p in planned] == [
        ("new", "never-collected", 9),
        ("stale", "stale", 7),
        ("fresh", "routine", 5),
    ]
    assert plan(db_url, "p2", now, due_only=False) == []  # their work is pending now


def test_the_planner_sensor_schedules_due_accounts_for_the_workers(db_url, monkeypatch):
    import dagster as dg

    from orchestration.defs.collection.planner import plan_collection
    from orchestration.lib.resources import AnalisaResource

    monkeypatch.setenv("DATABASE_URL", db_url)
    with psycopg.connect(db_url) as conn, conn.transaction():
        for account in ("a", "b"):
            conn.execute(
                "insert into ops.accounts (platform, account_id) values ('tiktok', %s)", (account,)
            )
    result = plan_collection(dg.build_sensor_context(), analisa=AnalisaResource())
    assert isinstance(result, dg.SkipReason)
    assert result.skip_message == "scheduled for the workers: 2 never-collected"
    again = plan_collection(dg.build_sensor_context(), analisa=AnalisaResource())
    assert again.skip_message == "scheduled for the workers: nothing due"
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "select account_id, priority from ops.collection_outbox order by account_id"
        ).fetchall()
    assert rows == [("a", 9), ("b", 9)]
