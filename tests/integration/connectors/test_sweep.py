"""Lost work swept on a real RabbitMQ: a published task whose message vanished (a purged queue)
is published again and collected once, records never duplicated; a task still queued or in
progress, or lost more recently than the bound, is left alone; the CLI and the planner sensor
sweep too."""

from __future__ import annotations

import threading
import time

import psycopg
from typer.testing import CliRunner

from analisa.cli import app
from connectors import metrics
from connectors.collector import Collector
from connectors.outbox import pending_work, publish_due
from connectors.planner import plan
from connectors.queue import RabbitQueue
from connectors.sweep import sweep
from connectors.tasks import CollectionTask
from connectors.worker import Worker, WorkerOptions


def _swept_total() -> float:
    return metrics.REGISTRY.get_sample_value("analisa_worker_tasks_swept_total") or 0.0


def _run(worker: Worker, until, timeout: float = 60.0) -> None:
    thread = threading.Thread(target=worker.run, kwargs={"until": until}, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        worker.stop()
        thread.join(10)
        raise AssertionError("the worker did not finish in time")


def _duplicated_records(conn) -> int:
    return conn.execute(
        "select count(*) from (select 1 from bronze.raw_records "
        "group by task_id, request having count(*) > 1) d"
    ).fetchone()[0]


def test_a_purged_task_is_swept_then_collected_once(small_world, amqp_url, rabbit_prefix):
    _sandbox, settings, db_url = small_world
    planned = plan(db_url, "run-lost", time.time(), due_only=False)
    ids = sorted(p.task.task_id for p in planned)
    assert len(ids) == 2
    queue = RabbitQueue(amqp_url, prefix=rabbit_prefix)
    try:
        assert publish_due(db_url, queue.publish, time.time()) == 2
        assert queue.pending() == 2
        queue.purge()  # the broker lost both messages
        assert queue.pending() == 0
        # pending forever without the sweep: the planner never schedules pending work again
        assert plan(db_url, "run-next", time.time(), due_only=False) == []
        time.sleep(1.1)  # past the bound below

        before = _swept_total()
        collector = Collector(settings, db_url)
        options = WorkerOptions(
            prefix=rabbit_prefix, sweep_every_seconds=0.3, sweep_after_seconds=1.0
        )
        worker = Worker(amqp_url, db_url, collector, options)
        _run(worker, until=lambda: pending_work(db_url) == 0)
        assert worker.swept == 2
        assert _swept_total() - before == 2
        assert worker.stats.done == 2 and worker.stats.replayed == 0

        with psycopg.connect(db_url) as conn:
            ledger = conn.execute(
                "select task_id, outcome, records from bronze.collection_ledger order by task_id"
            ).fetchall()
            assert [(t, o) for t, o, _ in ledger] == [(i, "done") for i in ids]
            stored = conn.execute(
                "select task_id, count(*) from bronze.raw_records group by 1 order by 1"
            ).fetchall()
            assert stored == [(t, n) for t, _, n in ledger]
            assert all(n > 0 for _, n in stored)
            assert _duplicated_records(conn) == 0
            outbox = conn.execute(
                "select task_id, sweeps, swept_at is not null, published_at is not null "
                "from ops.collection_outbox order by task_id"
            ).fetchall()
            assert outbox == [(i, 1, True, True) for i in ids]

        # the lost message turns up after all: its delivery acts on the recorded outcome
        queue.publish(CollectionTask.from_json(planned[0].task.to_json()))
        again = Worker(amqp_url, db_url, collector, options)
        _run(again, until=lambda: again.stats.replayed >= 1)
        assert again.stats.replayed == 1 and again.stats.done == 0
        assert queue.pending() == 0
        with psycopg.connect(db_url) as conn:
            assert conn.execute("select count(*) from bronze.raw_records").fetchone()[0] == sum(
                n for _, n in stored
            )
            assert _duplicated_records(conn) == 0
            assert conn.execute("select count(*) from bronze.collection_ledger").fetchone()[0] == 2
        # finished work is never swept
        assert sweep(db_url, older_than_seconds=0, queued=queue.pending).swept == []
    finally:
        queue.close()


def _accounts(db_url: str, *names: str) -> None:
    with psycopg.connect(db_url) as conn, conn.transaction():
        for name in names:
            conn.execute(
                "insert into ops.accounts (platform, account_id) values ('instagram', %s)", (name,)
            )


def test_queued_or_running_work_is_not_swept(db_url, amqp_url, rabbit_prefix):
    _accounts(db_url, "lost")
    [lost] = plan(db_url, "r1", time.time(), due_only=False)
    queue = RabbitQueue(amqp_url, prefix=rabbit_prefix)
    try:
        publish_due(db_url, queue.publish, time.time())
        queue.purge()
        time.sleep(0.05)
        _accounts(db_url, "queued")
        [queued] = plan(db_url, "r2", time.time(), due_only=False)
        publish_due(db_url, queue.publish, time.time())
        assert queue.pending() == 1  # "queued" waits in the broker, "lost" is gone

        # younger than the bound: nothing yet
        young = sweep(db_url, older_than_seconds=600, queued=queue.pending)
        assert (young.swept, young.unfinished, young.queued) == ([], 2, 1)

        # a worker is collecting "lost" (it holds the account's lock): not lost after all
        with psycopg.connect(db_url, autocommit=True) as worker_conn:
            worker_conn.execute("select pg_advisory_lock(hashtext('collect:instagram:lost'))")
            busy = sweep(db_url, older_than_seconds=0, queued=queue.pending)
            assert (busy.swept, busy.unfinished, busy.in_progress) == ([], 1, 1)
        # its worker died without an outcome: one task more than the broker holds, the oldest
        result = sweep(db_url, older_than_seconds=0, queued=queue.pending)
        assert result.swept == [lost.task.task_id]
        assert (result.unfinished, result.queued, result.in_progress) == (2, 1, 0)
        # swept once: until the relay publishes it again, no sweep touches it
        assert sweep(db_url, older_than_seconds=0, queued=queue.pending).swept == []
        assert publish_due(db_url, queue.publish, time.time()) == 1
        assert queue.pending() == 2
        assert sweep(db_url, older_than_seconds=0, queued=queue.pending).swept == []
        with psycopg.connect(db_url) as conn:
            sweeps = conn.execute(
                "select account_id, sweeps from ops.collection_outbox order by account_id"
            ).fetchall()
        assert sweeps == [("lost", 1), ("queued", 0)]
        assert queued.task.task_id != lost.task.task_id
    finally:
        queue.close()


def test_the_cli_and_the_planner_sensor_sweep_lost_work(
    db_url, amqp_url, rabbit_prefix, monkeypatch
):
    import dagster as dg

    from orchestration.defs.collection.planner import plan_collection
    from orchestration.lib.resources import AnalisaResource

    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("AMQP_URL", amqp_url)
    monkeypatch.setenv("ANALISA_QUEUE_PREFIX", rabbit_prefix)
    _accounts(db_url, "a", "b")
    plan(db_url, "r1", time.time(), due_only=False)
    queue = RabbitQueue(amqp_url, prefix=rabbit_prefix)
    try:
        publish_due(db_url, queue.publish, time.time())
        queue.purge()
        runner = CliRunner()
        young = runner.invoke(app, ["tasks", "sweep"])  # the default bound: 600 s
        assert young.exit_code == 0, young.output
        assert "0 lost task(s) back in the outbox" in young.output
        assert "2 published without an outcome, 0 queued in the broker" in young.output
        result = runner.invoke(app, ["tasks", "sweep", "--older-than", "0"])
        assert result.exit_code == 0, result.output
        assert "swept r1:instagram:a:a0" in result.output
        assert "swept r1:instagram:b:a0" in result.output
        assert "2 lost task(s) back in the outbox" in result.output

        publish_due(db_url, queue.publish, time.time())
        queue.purge()
        monkeypatch.setenv("ANALISA_COLLECTION_SWEEP_AFTER_SECONDS", "0")
        resource = AnalisaResource(queue_prefix=rabbit_prefix)
        sensed = plan_collection(dg.build_sensor_context(), analisa=resource)
        assert sensed.skip_message == (
            "scheduled for the workers: nothing due; 2 lost task(s) swept back to the outbox"
        )
    finally:
        queue.close()
