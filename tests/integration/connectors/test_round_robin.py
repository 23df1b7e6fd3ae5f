"""Round-robin under a shared limit that binds: a round gives its worker up every few calls
while another account's work is due, so every account starts within the shared limit's first
window; the decision reads the shared budget (Redis) and the outbox (PostgreSQL)."""

from __future__ import annotations

import time

import psycopg
import pytest
import redis

from analisa.core.settings import Settings
from connectors.instagram import limits
from connectors.outbox import others_due
from connectors.planner import plan
from connectors.rate_budget import RateBudget
from connectors.registry import connector
from connectors.rounds import RoundSession, RoundStopped
from connectors.tasks import CollectionTask


def _session(budget: RateBudget, due: list[bool], asked: list[int]) -> RoundSession:
    def others() -> bool:
        asked.append(1)
        return due[0]

    return RoundSession(
        settings=Settings(),
        http=None,
        task=CollectionTask("instagram", "acc1", "rr"),
        token=None,
        budget=budget,
        classify=lambda record, headers: None,
        posts_to_probe=list,
        rates=connector("instagram").rates,
        others_due=others,
    )


def _calls(session: RoundSession, n: int) -> None:
    for _ in range(n):
        session.before_call("media_insights")
        session.records.append(object())  # what the call answered (only counted here)


def test_a_round_yields_every_five_calls_only_when_the_shared_limit_binds(redis_url, redis_prefix):
    budget = RateBudget(redis.Redis.from_url(redis_url), prefix=redis_prefix)
    due, asked = [True], []
    session = _session(budget, due, asked)
    _calls(session, 10)  # no limit known to bind: the round runs on, the outbox never asked
    assert asked == []

    # the account's own limit binding is no reason to give the worker up
    budget.record_usage(limits.account_scope("acc1"), 50)
    assert budget.limit_estimate(limits.account_scope("acc1")) == 20  # 10 calls = 50 %
    _calls(session, 5)
    assert asked == []

    # the app's shared limit binds (15 of our calls were 50 % of it: 30) ...
    budget.record_usage(limits.APP, 50)
    assert budget.limit_estimate(limits.APP) == 30
    # ... but nobody else's work is due: on, asking again five calls later
    due[0] = False
    _calls(session, 1)  # 15 kept: asked at the 16th call
    assert asked == [1]
    _calls(session, 4)
    assert asked == [1]
    due[0] = True
    with pytest.raises(RoundStopped) as stopped:
        _calls(session, 1)  # 20 kept: the 21st call is not made
    problem = stopped.value.problem
    assert (problem.kind, problem.code, problem.retry_after_seconds) == ("throttled", "yield", 1.0)
    assert len(session.records) == 20 and asked == [1, 1]


def _account(conn, platform: str, account: str) -> None:
    conn.execute(
        "insert into ops.accounts (platform, account_id) values (%s, %s)", (platform, account)
    )


def test_others_due_means_another_account_waits_and_nobody_collects_it(db_url):
    with psycopg.connect(db_url) as conn, conn.transaction():
        for platform, account in (("instagram", "a"), ("instagram", "b"), ("tiktok", "c")):
            _account(conn, platform, account)
    now = time.time()
    plan(db_url, "rr", now, due_only=False)
    assert others_due(db_url, "instagram", "a", now)  # b waits
    assert others_due(db_url, "instagram", "b", now)
    assert not others_due(db_url, "tiktok", "c", now)  # alone on its platform
    assert not others_due(db_url, "instagram", "a", now - 60)  # b not due yet then
    with psycopg.connect(db_url, autocommit=True) as worker:  # a worker is collecting b
        worker.execute("select pg_advisory_lock(hashtext('collect:instagram:b'))")
        assert not others_due(db_url, "instagram", "a", now)
    with psycopg.connect(db_url) as conn, conn.transaction():  # b finished
        conn.execute(
            "insert into bronze.collection_ledger (task_id, platform, account_id, round_id, "
            "records, outcome) values ('rr:instagram:b:a0', 'instagram', 'b', 'rr:instagram:b', "
            "0, 'done')"
        )
    assert not others_due(db_url, "instagram", "a", now)


def test_an_answer_implies_a_limit_from_the_calls_made_before_it(redis_url, redis_prefix):
    """Two workers share the app's window; worker B took 4 slots after worker A's last call.
    The answer to A's call (50 %) is about the 10 calls before it: a limit of 20, not 28."""
    client = redis.Redis.from_url(redis_url)
    now = [1_000_000.0]

    def clock() -> float:
        return now[0]

    a = RateBudget(client, prefix=redis_prefix, clock=clock)
    b = RateBudget(client, prefix=redis_prefix, clock=clock)
    app = limits.scopes("media_insights", "acc1", Settings())[0]
    for _ in range(10):
        now[0] += 1
        a.acquire([app])
    for _ in range(4):
        now[0] += 1
        b.acquire([app])
    a.record_usage(limits.APP, 50)
    assert a.limit_estimate(limits.APP) == 20
    b.record_usage(limits.APP, 70)  # B's latest call was the 14th: 14 × 100 / 70
    assert b.limit_estimate(limits.APP) == 20


def test_a_usage_rounded_down_never_implies_more_than_the_limit(redis_url, redis_prefix):
    """A platform that reports floor(100 × calls / 150): 148 calls say 98 %, which
    148 × 100 / 98 would read as a limit of 151 (a call into a throttle). Every answer from
    half-full on implies at most 150, and the last ones exactly 150."""
    now = [1_000_000.0]

    def sleep(seconds: float) -> None:  # near the limit calls are spaced out: on this clock
        now[0] += seconds

    client = redis.Redis.from_url(redis_url)
    budget = RateBudget(client, prefix=redis_prefix, clock=lambda: now[0], sleep=sleep)
    app = limits.scopes("media_insights", "acc1", Settings())[0]
    implied = {}
    for calls in range(1, 151):
        now[0] += 1
        budget.acquire([app])
        budget.record_usage(limits.APP, 100 * calls // 150)
        implied[calls] = budget.limit_estimate(limits.APP)
    assert all(implied[c] <= 150 for c in range(75, 151))
    assert implied[148] == implied[149] == implied[150] == 150
    assert implied[74] is None  # 49 %: below half-full, nothing implied
