"""Tokens that never lapse: refreshed before expiry without a 401, one refresh per account at
a time, rotated vault keys, and an unreadable token that marks its account, never the run."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import httpx
import psycopg
import redis

from analisa.core.crypto import TokenVault, new_vault_key
from connectors.collection_run import run_collection
from connectors.queue import InProcessQueue
from connectors.rate_budget import RateBudget
from connectors.tiktok.oauth import TikTokOAuth
from connectors.token_refresh import NeedsReauth, refresh_if_due
from connectors.token_store import load_token, rotate_keys, save_token, vault_for
from sandbox.world import SandboxConfig
from tests.integration.connectors.conftest import connect_world


class SharedClock:
    def __init__(self, world):
        self.world = world
        self.now = world.now().timestamp()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.world.move_clock(timedelta(seconds=seconds))


def _token_row(db_url, platform):
    with psycopg.connect(db_url) as conn:
        return conn.execute(
            "select account_id, access_token_enc, access_expires_at, key_id "
            "from ops.oauth_tokens where platform = %s",
            (platform,),
        ).fetchone()


def test_instagram_token_is_refreshed_on_day_59_without_a_401(
    db_url, redis_url, redis_prefix, monkeypatch
):
    config = SandboxConfig(seed=3, influencers_per_platform=1, posts_per_influencer=3)
    sandbox, settings = connect_world(config, db_url, monkeypatch, align_clock=True)
    try:
        clock = SharedClock(sandbox.world)
        before = _token_row(db_url, "instagram")
        clock.sleep(59 * 86400)
        budget = RateBudget(redis.Redis.from_url(redis_url), prefix=redis_prefix, clock=clock)
        queue = InProcessQueue(clock=clock, sleep=clock.sleep)
        summary = run_collection(
            settings, db_url, ("instagram",), queue=queue, budget=budget, clock=clock
        )
    finally:
        sandbox.stop()
    after = _token_row(db_url, "instagram")
    assert after[1] != before[1]  # a new token was stored
    new_expiry = after[2].timestamp()
    assert abs(new_expiry - (clock.now + 60 * 86400)) < 120  # 60 days from "day 59"
    with psycopg.connect(db_url) as conn:
        errors = conn.execute(
            "select count(*) from bronze.raw_records where body -> 'error' is not null"
        ).fetchone()[0]
    assert errors == 0  # no 401 (code 190) ever answered
    assert (summary.stats.done, summary.stats.parked) == (1, 0)


def test_two_concurrent_refreshes_make_one_refresh_call(db_url, monkeypatch):
    config = SandboxConfig(seed=3, influencers_per_platform=1, posts_per_influencer=3)
    sandbox, settings = connect_world(config, db_url, monkeypatch, align_clock=True)
    refresh_calls: list[str] = []

    def count(request):
        if request.url.path.endswith("/v2/oauth/token/"):
            refresh_calls.append(request.url.path)

    try:
        vault = vault_for(settings)
        with psycopg.connect(db_url) as conn:
            (account,) = conn.execute(
                "select account_id from ops.oauth_tokens where platform = 'tiktok'"
            ).fetchone()
            stale = load_token(conn, vault, "tiktok", account)
        # five minutes before the access token expires: inside the refresh margin
        now = stale.access_expires_at - timedelta(minutes=5)
        sandbox.world.move_clock(now - sandbox.world.now())
        results, errors = [], []
        barrier = threading.Barrier(2)

        def refresh():
            with httpx.Client(event_hooks={"request": [count]}) as http:
                oauth = TikTokOAuth.from_settings(settings, http, clock=lambda: now)
                barrier.wait()
                try:
                    results.append(
                        refresh_if_due(db_url, vault, oauth, stale, now, timedelta(days=7))
                    )
                except Exception as exc:
                    errors.append(exc)

        threads = [threading.Thread(target=refresh) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    finally:
        sandbox.stop()
    assert errors == []
    assert len(refresh_calls) == 1  # the second found the fresh token under the lock
    assert results[0].access_token == results[1].access_token != stale.access_token
    with psycopg.connect(db_url) as conn:
        stored = load_token(conn, vault, "tiktok", account)
    assert stored.refresh_token == results[0].refresh_token  # the rotated one was kept


def test_an_unreadable_token_marks_its_account_and_the_run_goes_on(db_url, monkeypatch):
    config = SandboxConfig(seed=3, influencers_per_platform=2, posts_per_influencer=3)
    sandbox, settings = connect_world(config, db_url, monkeypatch)
    try:
        vault = vault_for(settings)
        with psycopg.connect(db_url) as conn, conn.transaction():
            (victim,) = conn.execute(
                "select account_id from ops.oauth_tokens where platform = 'tiktok' "
                "order by account_id limit 1"
            ).fetchone()
            token = load_token(conn, vault, "tiktok", victim)
            save_token(conn, TokenVault(new_vault_key()), token)  # sealed with a foreign key
        summary = run_collection(settings, db_url, ("tiktok",), queue=InProcessQueue())
    finally:
        sandbox.stop()
    assert (summary.stats.done, summary.stats.parked) == (1, 1)
    with psycopg.connect(db_url) as conn:
        state = conn.execute(
            "select account_id, needs_reauth, reauth_reason from ops.account_state "
            "where needs_reauth"
        ).fetchall()
    assert [(a, n) for a, n, _ in state] == [(victim, True)]
    assert state[0][2].startswith("token does not decrypt: sealed with key id")


def test_keys_rotate_reencrypts_every_token_under_the_new_key_id(db_url):
    old_key, new_key = new_vault_key(), new_vault_key()
    old = TokenVault(old_key)
    token = _fake_token("a1")
    with psycopg.connect(db_url) as conn, conn.transaction():
        save_token(conn, old, token)
        save_token(conn, TokenVault(new_vault_key()), _fake_token("lost"))
    rotating = TokenVault(new_key, [old_key])
    with psycopg.connect(db_url) as conn, conn.transaction():
        rotated, failed = rotate_keys(conn, rotating)
    assert rotated == 1
    assert len(failed) == 1 and failed[0].startswith("tiktok/lost: sealed with key id")
    with psycopg.connect(db_url) as conn:
        kids = conn.execute(
            "select account_id, key_id from ops.oauth_tokens order by account_id"
        ).fetchall()
        # the new key alone opens the rotated token now: the old one can be dropped
        reread = load_token(conn, TokenVault(new_key), "tiktok", "a1")
        reauth = conn.execute(
            "select account_id from ops.account_state where needs_reauth"
        ).fetchall()
    assert kids == [("a1", rotating.key_id), ("lost", kids[1][1])]
    assert kids[1][1] != rotating.key_id
    assert (reread.access_token, reread.refresh_token) == ("access-a1", "refresh-a1")
    assert reauth == [("lost",)]


def _fake_token(account: str):
    from connectors.tokens import TokenSet

    now = datetime.now(UTC)
    return TokenSet(
        "tiktok",
        account,
        f"access-{account}",
        f"refresh-{account}",
        now + timedelta(hours=24),
        now + timedelta(days=365),
        ("user.info.basic",),
    )


def test_a_refused_refresh_leaves_the_account_marked_needs_reauth(db_url, monkeypatch):
    config = SandboxConfig(seed=3, influencers_per_platform=1, posts_per_influencer=3)
    sandbox, settings = connect_world(config, db_url, monkeypatch, align_clock=True)
    try:
        vault = vault_for(settings)
        with psycopg.connect(db_url) as conn:
            (account,) = conn.execute(
                "select account_id from ops.oauth_tokens where platform = 'tiktok'"
            ).fetchone()
            stale = load_token(conn, vault, "tiktok", account)
        sandbox.world.revoke_tokens("tiktok", account)  # the creator removed the app
        now = stale.access_expires_at - timedelta(minutes=5)
        sandbox.world.move_clock(now - sandbox.world.now())
        with httpx.Client(timeout=30) as http:
            oauth = TikTokOAuth.from_settings(settings, http, clock=lambda: now)
            try:
                refresh_if_due(db_url, vault, oauth, stale, now, timedelta(days=7))
            except NeedsReauth as exc:
                refused = str(exc)
            else:  # pragma: no cover
                raise AssertionError("the refresh was not refused")
    finally:
        sandbox.stop()
    with psycopg.connect(db_url) as conn:
        state = conn.execute(
            "select needs_reauth, reauth_reason from ops.account_state where account_id = %s",
            (account,),
        ).fetchone()
    assert refused.startswith("token refresh refused: tiktok OAuth error invalid_grant")
    assert state == (True, refused)  # the mark outlives the refusal
