"""Shared budgets in Redis at the platform's levels, resumable and incremental rounds, against
the sandbox with a clock that lets a day pass in an instant (the sandbox's clock moves with it).

Every call to the platform is recorded with the time it was made, so "0 calls inside a block"
is counted, not assumed.
"""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest
import redis

import connectors.instagram.client as ig_client
from connectors.collection_run import run_collection
from connectors.queue import InProcessQueue
from connectors.rate_budget import MustWait, RateBudget, Scope
from sandbox.world import SandboxConfig
from tests.integration.connectors.conftest import connect_world


class SharedClock:
    """The collectors' clock and the sandbox's move together: sleeping is instant."""

    def __init__(self, world):
        self.world = world
        self.now = world.now().timestamp()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.world.move_clock(timedelta(seconds=seconds))


@pytest.fixture
def calls(monkeypatch):
    """(clock time, endpoint, account) of every Instagram call, in order."""
    made: list[tuple[float, str, str]] = []
    real = ig_client.fetch_record
    holder: dict = {}

    def recording(*args, **kwargs):
        made.append((holder["clock"](), kwargs["endpoint"], kwargs["account_id"]))
        return real(*args, **kwargs)

    monkeypatch.setattr(ig_client, "fetch_record", recording)
    return made, holder


def _world(db_url, monkeypatch, **config):
    # these rounds count the calls of posts, insights and audience: stories are off here
    # (tests/integration/connectors/test_stories.py collects them)
    monkeypatch.setenv("INSTAGRAM_STORIES", "false")
    sandbox, settings = connect_world(SandboxConfig(seed=3, **config), db_url, monkeypatch)
    return sandbox, settings


def _run(settings, db_url, clock, redis_url, prefix, platforms=("instagram",)):
    budget = RateBudget(
        redis.Redis.from_url(redis_url), prefix=prefix, clock=clock, sleep=clock.sleep
    )
    queue = InProcessQueue(clock=clock, sleep=clock.sleep)
    return run_collection(settings, db_url, platforms, queue=queue, budget=budget, clock=clock)


def _ledger(db_url):
    with psycopg.connect(db_url) as conn:
        return conn.execute(
            "select account_id, outcome, failures, detail from bronze.collection_ledger "
            "order by committed_at"
        ).fetchall()


def test_sliding_window_is_shared_by_workers_and_waits_exactly(redis_url, redis_prefix):
    client = redis.Redis.from_url(redis_url)
    clock = type("C", (), {"now": 1000.0, "__call__": lambda self: self.now})()
    slept: list[float] = []

    def sleep(seconds):
        slept.append(seconds)
        clock.now += seconds

    a = RateBudget(client, prefix=redis_prefix, clock=clock, sleep=sleep, max_inline_wait=5)
    b = RateBudget(client, prefix=redis_prefix, clock=clock, sleep=sleep, max_inline_wait=5)
    scope = [Scope("tiktok:endpoint:video_list", 3, 60.0)]
    a.acquire(scope)
    clock.now += 10
    b.acquire(scope)
    a.acquire(scope)
    clock.now += 48  # the first slot frees at 1060: 2 s from now, waited in the call
    b.acquire(scope)
    assert slept == [pytest.approx(2.0)]
    with pytest.raises(MustWait) as caught:  # the next slot frees at 1070: 10 s, too long
        a.acquire(scope)
    assert caught.value.seconds == pytest.approx(10.0)


def test_blocks_only_extend_and_are_seen_by_every_worker(redis_url, redis_prefix):
    client = redis.Redis.from_url(redis_url)
    clock = type("C", (), {"now": 5000.0, "__call__": lambda self: self.now})()
    a = RateBudget(client, prefix=redis_prefix, clock=clock)
    b = RateBudget(client, prefix=redis_prefix, clock=clock)
    a.block("instagram:app", 86400)
    b.block("instagram:app", 60)  # a shorter block never shortens a longer one
    assert b.blocked_for(["instagram:account:1", "instagram:app"]) == (86400.0, "instagram:app")
    clock.now += 86400
    assert a.blocked_for(["instagram:app"]) == (0.0, "instagram:app")


def test_a_24h_app_block_stops_every_account_then_collection_completes(
    db_url, redis_url, redis_prefix, monkeypatch, calls
):
    sandbox, settings = _world(
        db_url,
        monkeypatch,
        influencers_per_platform=3,
        posts_per_influencer=4,
        throttle_fault_minutes=1440,
    )
    try:
        world = sandbox.world
        clock = SharedClock(world)
        made, holder = calls
        holder["clock"] = clock
        # code 4 (the whole app) on the first listing, "regain access in 1440 minutes"
        world.inject_fault("instagram", "media", "throttle", count=1)
        summary = _run(settings, db_url, clock, redis_url, redis_prefix)
    finally:
        sandbox.stop()
    throttled_at = next(t for t, endpoint, _ in made if endpoint == "media")
    inside = [c for c in made if throttled_at < c[0] < throttled_at + 86400]
    assert inside == []  # 0 calls to any account of the app before the block ends
    after = [c for c in made if c[0] >= throttled_at + 86400]
    assert {account for _, _, account in after} == {
        a.account_id for a in world.accounts("instagram")
    }
    ledger = _ledger(db_url)
    assert [r for r in ledger if r[1] == "park"] == []
    assert sorted(r[1] for r in ledger) == ["done"] * 3 + ["retry"] * 3
    assert {r[2] for r in ledger} == {0}  # waiting used up no attempt
    assert (summary.stats.done, summary.stats.parked, summary.stats.waited) == (3, 0, 3)


def test_a_budget_smaller_than_one_round_still_completes(
    db_url, redis_url, redis_prefix, monkeypatch, calls
):
    # 4 calls per account per hour; a first round needs 11 (profile, 1 page, 4 insights,
    # 5 audience breakdowns): the round resumes from its checkpoint after each wait
    sandbox, settings = _world(
        db_url,
        monkeypatch,
        influencers_per_platform=1,
        posts_per_influencer=4,
        instagram_buc_calls_per_hour=4,
    )
    try:
        clock = SharedClock(sandbox.world)
        made, holder = calls
        holder["clock"] = clock
        summary = _run(settings, db_url, clock, redis_url, redis_prefix)
    finally:
        sandbox.stop()
    with psycopg.connect(db_url) as conn:
        by_status = conn.execute(
            "select endpoint, http_status, count(*) from bronze.raw_records "
            "group by 1, 2 order by 1, 2"
        ).fetchall()
    # every call was useful: nothing refused, nothing fetched twice
    assert by_status == [
        ("media", 200, 1),
        ("media_insights", 200, 4),
        ("user", 200, 1),
        ("user_insights", 200, 5),
    ]
    assert len(made) == 11
    ledger = _ledger(db_url)
    assert ledger[-1][1] == "done" and [r for r in ledger if r[1] == "park"] == []
    assert summary.stats.waited == len(ledger) - 1 >= 2


def test_permission_refused_on_one_post_skips_it_and_collects_the_rest(
    db_url, redis_url, redis_prefix, monkeypatch, calls
):
    sandbox, settings = _world(
        db_url, monkeypatch, influencers_per_platform=1, posts_per_influencer=4
    )
    try:
        clock = SharedClock(sandbox.world)
        _made, holder = calls
        holder["clock"] = clock
        sandbox.world.inject_fault("instagram", "media_insights", "permission", count=1)
        _run(settings, db_url, clock, redis_url, redis_prefix)
    finally:
        sandbox.stop()
    with psycopg.connect(db_url) as conn:
        insights = conn.execute(
            "select object_id, body -> 'error' ->> 'code' from bronze.raw_records "
            "where endpoint = 'media_insights' order by record_id"
        ).fetchall()
        audience = conn.execute(
            "select count(*) from bronze.raw_records where endpoint = 'user_insights'"
        ).fetchone()[0]
    assert [code for _, code in insights] == ["10", None, None, None]
    assert audience == 5  # the account's round went on after the refused post
    ((_account, outcome, _failures, detail),) = _ledger(db_url)
    assert outcome == "done"
    assert detail == f"skipped 1: media_insights {insights[0][0]}: permission 10"


def test_steady_state_round_lists_one_page_and_refreshes_recent_insights(
    db_url, redis_url, redis_prefix, monkeypatch, calls
):
    sandbox, settings = _world(
        db_url, monkeypatch, influencers_per_platform=1, posts_per_influencer=100
    )
    try:
        world = sandbox.world
        clock = SharedClock(world)
        made, holder = calls
        holder["clock"] = clock
        _run(settings, db_url, clock, redis_url, redis_prefix)
        first = len(made)
        clock.sleep(6 * 3600)  # the next routine round
        _run(settings, db_url, clock, redis_url, redis_prefix)
        second = made[first:]
        (account,) = world.accounts("instagram")
        live = world.live_posts("instagram", account.account_id)
        # recent: the last 7 days before now, or before the newest post when it is older
        end = min(clock.now, max(p.posted_at.timestamp() for p in live))
        recent = [
            p
            for p in live
            if p.posted_at.timestamp() >= end - settings.recent_insights_days * 86400
        ]
    finally:
        sandbox.stop()
    # first round: profile + 1 page of 100 + 100 insights + 5 breakdowns
    assert first == 107
    endpoints = [e for _, e, _ in second]
    assert endpoints == ["user", "media"] + ["media_insights"] * len(recent)
    assert len(second) <= 15


def test_app_usage_at_100_percent_waits_for_the_window_without_a_throttle(
    db_url, redis_url, redis_prefix, monkeypatch, calls
):
    # 15 calls per hour for the whole app, 22 needed (2 accounts x 11): X-App-Usage reaches
    # 100 % and names no wait; the oldest logged call leaving the hour frees the next slot
    sandbox, settings = _world(
        db_url,
        monkeypatch,
        influencers_per_platform=2,
        posts_per_influencer=4,
        instagram_app_calls_per_hour=15,
        instagram_app_counts_every_call=True,
    )
    try:
        clock = SharedClock(sandbox.world)
        made, holder = calls
        holder["clock"] = clock
        summary = _run(settings, db_url, clock, redis_url, redis_prefix)
    finally:
        sandbox.stop()
    with psycopg.connect(db_url) as conn:
        refused = conn.execute(
            "select count(*) from bronze.raw_records where body ? 'error'"
        ).fetchone()[0]
    times = sorted(t for t, _, _ in made)
    assert refused == 0  # never called into a throttle
    assert len(made) == 22
    # the 16th call waited for the 1st to leave the window: an hour, to the second
    assert times[15] - times[0] == pytest.approx(3600, abs=2)
    assert (summary.stats.done, summary.stats.parked) == (2, 0)
