"""A collecting process SIGKILLed in each crash window: 0 records lost, 0 duplicated.

The child process is a real collector on RabbitMQ and PostgreSQL that kills itself (SIGKILL,
no cleanup) at one point of its work; then a fresh consumer finishes the run. Windows: before
the commit; between the commit and the ack; between committing a retry and publishing it; and
in the relay, between publishing the retry and marking it published (a duplicate message);
and mid-round, after ten answers were committed with their checkpoint (the redelivery resumes:
nothing is fetched twice).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import psycopg
import pytest

import connectors.collector as collector_module
from connectors.collection_run import make_pump
from connectors.collector import Collector
from connectors.planner import plan
from connectors.queue import RabbitQueue

CHILD = r"""
import os, signal, sys, time
import connectors.collector as cm
from analisa.core.settings import Settings
from connectors.collection_run import make_pump
from connectors.queue import RabbitQueue

window, db, prefix, amqp = sys.argv[1:5]
cm.FAILURE_DELAYS_SECONDS = (1,)

def die():
    os.kill(os.getpid(), signal.SIGKILL)

real_commit = cm.Collector._commit
if window == "before_commit":
    def crash(*args, **kwargs):
        die()
    cm.write_records = crash
elif window == "commit_ack":
    def commit(self, task, records, outcome, *rest):
        out = real_commit(self, task, records, outcome, *rest)
        die()
    cm.Collector._commit = commit
elif window == "commit_publish":
    def commit(self, task, records, outcome, *rest):
        out = real_commit(self, task, records, outcome, *rest)
        if out.kind == "retry":
            die()  # the retry is committed in the outbox, never published, never acked
        return out
    cm.Collector._commit = commit

elif window == "mid_round":
    import connectors.instagram.client as ig
    real_fetch, made = ig.fetch_record, []
    def fetch(*args, **kwargs):
        made.append(kwargs["endpoint"])
        if len(made) == 11:
            die()  # ten answers were committed with their checkpoint before this call
        return real_fetch(*args, **kwargs)
    ig.fetch_record = fetch

queue = RabbitQueue(amqp, prefix=prefix)

def publish(task):
    queue.publish(task)
    if window == "publish_mark" and task.attempt >= 1:
        die()  # the broker has the retry; the outbox row is not marked published

collector = cm.Collector(Settings(), db)
queue.consume(collector, pump=make_pump(db, publish, time.time), idle_seconds=0.2)
"""

WINDOWS = ("before_commit", "commit_ack", "commit_publish", "publish_mark", "mid_round")


def _child(window: str, db_url: str, prefix: str, amqp_url: str) -> int:
    env = dict(os.environ)
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, window, db_url, prefix, amqp_url],
        env=env,
        timeout=120,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == -9, proc.stderr[-2000:]
    return proc.returncode


@pytest.mark.parametrize("window", WINDOWS)
def test_sigkill_in_each_window_loses_and_duplicates_nothing(
    window, small_world, amqp_url, rabbit_prefix, monkeypatch
):
    sandbox, settings, url = small_world
    world = sandbox.world
    tiktok = world.accounts("tiktok")[0].account_id
    # TikTok's first call fails once: that account's first task ends in a retry
    world.inject_fault("tiktok", "user_info", "server_error", count=1)
    plan(url, "run-crash", time.time(), due_only=False)

    _child(window, url, rabbit_prefix, amqp_url)

    monkeypatch.setattr(collector_module, "FAILURE_DELAYS_SECONDS", (1,))
    queue = RabbitQueue(amqp_url, prefix=rabbit_prefix)
    try:
        collector = Collector(settings, url)
        queue.consume(collector, pump=make_pump(url, queue.publish, time.time), idle_seconds=0.2)
    finally:
        queue.close()

    with psycopg.connect(url) as conn:
        ledger = conn.execute(
            "select platform, task_id, outcome, records from bronze.collection_ledger "
            "order by committed_at"
        ).fetchall()
        done = conn.execute(
            "select platform, count(*) from bronze.collection_ledger where outcome = 'done' "
            "group by 1 order by 1"
        ).fetchall()
        pending = conn.execute(
            "select count(*) from ops.account_state where pending_task_id is not null"
        ).fetchone()[0]
        per_task = conn.execute(
            "select platform, task_id, count(*) from bronze.raw_records group by 1, 2 order by 1, 2"
        ).fetchall()
        twice = conn.execute(
            "select count(*) from (select task_id, request from bronze.raw_records "
            "group by 1, 2 having count(*) > 1) d"
        ).fetchone()[0]
    # 0 lost: each account finished exactly once, nothing left pending
    assert done == [("instagram", 1), ("tiktok", 1)], ledger
    assert pending == 0
    # 0 duplicated: Instagram = profile + 1 media page + the stories page and each live
    # story's insights + 4 insights + 5 audience breakdowns;
    # TikTok = the failed user_info (attempt 0), then user_info + 1 video page (attempt 1)
    by_platform: dict[str, list[int]] = {}
    for platform, _task, n in per_task:
        by_platform.setdefault(platform, []).append(n)
    stories = len(world.live_stories(world.accounts("instagram")[0].account_id))
    assert sorted(by_platform["instagram"]) == [11 + 1 + stories]
    assert twice == 0
    tiktok_tasks = [r[1] for r in ledger if r[0] == "tiktok"]
    chain = [f"run-crash:tiktok:{tiktok}:a0", f"run-crash:tiktok:{tiktok}:a1"]
    if window == "before_commit" and tiktok_tasks == chain[:1]:
        # the killed attempt was TikTok's and took the fault with it: nothing of it was kept
        assert by_platform["tiktok"] == [2]
    else:
        assert tiktok_tasks == chain
        assert sorted(by_platform["tiktok"]) == [1, 2]
