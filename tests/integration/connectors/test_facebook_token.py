"""The brand's Facebook Login (Business Discovery) renewed before it expires, against the
sandbox's Facebook emulation and clock: no 401 on day 55, one renewal for two concurrent
workers, and a refused renewal that parks the public creators with the reason and marks the
login, while the connected accounts of the same run are collected."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import httpx
import psycopg
import pytest
from typer.testing import CliRunner

from analisa.cli import app
from analisa.core.settings import get_settings
from connectors import discovery_token
from connectors.account_status import replay
from connectors.collection_run import run_collection
from connectors.public_creators import login, track
from connectors.queue import InProcessQueue
from connectors.rate_budget import RateBudget
from connectors.token_store import vault_for
from sandbox.consent import approve
from sandbox.world import SandboxConfig
from tests.integration.connectors.conftest import connect_world

DAY = 86400.0
LONG_LIVED_SECONDS = 5183944  # what the platform's fb_exchange_token answers in expires_in


class SharedClock:
    """The collectors' clock and the sandbox's move together."""

    def __init__(self, world):
        self.world = world
        self.now = world.now().timestamp()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.world.move_clock(timedelta(seconds=seconds))

    def at(self) -> datetime:
        return datetime.fromtimestamp(self.now, tz=UTC)


@pytest.fixture
def brand_world(db_url, monkeypatch):
    """Two connected Instagram accounts, the first one a brand's, logged in through Facebook
    Login, and a third creator who never connected, tracked through Business Discovery."""
    config = SandboxConfig(seed=3, influencers_per_platform=3, posts_per_influencer=4)
    sandbox, settings = connect_world(config, db_url, monkeypatch, align_clock=True)
    world = sandbox.world
    brand, _other, creator = world.accounts("instagram")
    with psycopg.connect(db_url) as conn, conn.transaction():
        # the creator has not connected: only Business Discovery reads it
        conn.execute("delete from ops.oauth_tokens where account_id = %s", (creator.account_id,))
        conn.execute("delete from ops.accounts where account_id = %s", (creator.account_id,))
        conn.execute("delete from ops.accounts where platform = 'tiktok'")
    with httpx.Client(timeout=30) as http:
        login(settings, http, db_url, lambda url: approve(http, url, brand.username))
        track(settings, http, db_url, creator.username)
    try:
        yield sandbox, settings, brand, creator
    finally:
        sandbox.stop()


def _login_row(db_url):
    with psycopg.connect(db_url) as conn:
        return conn.execute(
            "select access_token_enc, access_expires_at, data_access_expires_at, needs_reauth, "
            "reauth_reason from ops.discovery_logins"
        ).fetchone()


def _run(settings, db_url, clock):
    queue = InProcessQueue(clock=clock, sleep=clock.sleep)
    return run_collection(
        settings, db_url, ("instagram",), queue=queue, budget=RateBudget(clock=clock), clock=clock
    )


def _long_lived(world, account_id) -> int:
    with world.lock:
        return sum(
            1
            for g in world.auth.tokens.values()
            if g.platform == "facebook" and g.kind == "long" and g.account_id == account_id
        )


def test_the_login_is_renewed_on_day_55_without_a_401(brand_world, db_url):
    sandbox, settings, brand, creator = brand_world
    clock = SharedClock(sandbox.world)
    logged_in = clock.at()
    before = _login_row(db_url)
    # the login's dates come from /debug_token: 60 days of token, 90 of data access
    assert abs((before[1] - logged_in).total_seconds() - LONG_LIVED_SECONDS) < 120
    assert abs((before[2] - logged_in).total_seconds() - 90 * DAY) < 120
    clock.sleep(55 * DAY)  # inside the 7-day window before the token expires
    summary = _run(settings, db_url, clock)
    after = _login_row(db_url)
    again = _run(settings, db_url, clock)  # renewed already: no second exchange
    assert (summary.stats.done, summary.stats.parked) == (3, 0)
    assert after[0] != before[0]  # the new token is stored (encrypted)
    assert abs((after[1] - clock.at()).total_seconds() - LONG_LIVED_SECONDS) < 120
    assert after[2] == before[2]  # no renewal moves the end of data access
    assert after[3:] == (False, None)
    assert (again.stats.done, again.stats.parked) == (3, 0)
    assert _long_lived(sandbox.world, brand.account_id) == 2  # the login's and one renewal
    with psycopg.connect(db_url) as conn:
        errors = conn.execute(
            "select count(*) from bronze.raw_records where body -> 'error' ->> 'code' = '190'"
        ).fetchone()[0]
        public = conn.execute(
            "select count(*) from bronze.raw_records where account_id = %s and endpoint = 'user'",
            (creator.account_id,),
        ).fetchone()[0]
    assert errors == 0  # no 401 (code 190) ever answered
    assert public == 2  # one Business Discovery page per run


def test_two_concurrent_renewals_make_one_exchange(brand_world, db_url):
    sandbox, settings, _brand, _creator = brand_world
    clock = SharedClock(sandbox.world)
    clock.sleep(55 * DAY)
    vault = vault_for(settings)
    with psycopg.connect(db_url) as conn:
        stale, _ = discovery_token.load_usable(conn, vault)
    exchanges: list[str] = []

    def count(request):
        if request.url.params.get("grant_type") == "fb_exchange_token":
            exchanges.append(request.url.path)

    results, errors = [], []
    barrier = threading.Barrier(2)

    def renew():
        with httpx.Client(timeout=30, event_hooks={"request": [count]}) as http:
            barrier.wait()
            try:
                results.append(
                    discovery_token.renew_if_due(
                        settings, http, db_url, vault, stale, clock.at(), timedelta(days=7)
                    )
                )
            except Exception as exc:
                errors.append(exc)

    threads = [threading.Thread(target=renew) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert len(exchanges) == 1  # the second found the renewed token under the lock
    assert results[0].access_token == results[1].access_token != stale.access_token
    with psycopg.connect(db_url) as conn:
        stored, _ = discovery_token.load_usable(conn, vault)
    assert stored.access_token == results[0].access_token


def test_a_refused_renewal_parks_the_public_creators_with_the_reason(
    brand_world, db_url, monkeypatch, tmp_path
):
    sandbox, settings, brand, creator = brand_world
    clock = SharedClock(sandbox.world)
    sandbox.world.revoke_tokens("facebook", brand.account_id)  # e.g. a changed password
    clock.sleep(55 * DAY)
    summary = _run(settings, db_url, clock)
    # the connected accounts of the same run are collected; the public creator is parked
    assert (summary.stats.done, summary.stats.parked) == (2, 1)
    row = _login_row(db_url)
    assert row[3] is True
    assert row[4].startswith(
        "renewal refused (facebook OAuth error 190: Error validating access token: The session "
        "has been invalidated"
    )
    assert row[4].endswith("the brand must log in again: analisa track login")
    with psycopg.connect(db_url) as conn:
        state = conn.execute(
            "select needs_reauth, reauth_reason, parked_reason from ops.account_state "
            "where account_id = %s",
            (creator.account_id,),
        ).fetchone()
        called = conn.execute(
            "select count(*) from bronze.raw_records where account_id = %s", (creator.account_id,)
        ).fetchone()[0]
    assert state == (True, "Facebook Login: " + row[4], "needs_reauth: " + row[4])
    assert called == 0  # nothing was asked with a token the platform refuses

    # `analisa accounts list` says what the brand must do, on the login and on the creator
    for key, value in (
        ("DATABASE_URL", db_url),
        ("ANALISA_HOME", str(tmp_path)),
        ("COLUMNS", "900"),
    ):
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    try:
        shown = CliRunner().invoke(app, ["accounts", "list"])
    finally:
        get_settings.cache_clear()
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    (on_login,) = [line for line in lines if brand.account_id in line]
    (on_creator,) = [line for line in lines if creator.username in line]
    assert "needs_reauth: renewal refused" in on_login and "analisa track login" in on_login
    assert "needs_reauth: Facebook Login: renewal refused" in on_creator

    # the next run leaves it alone; a new login, then a replay, collects it again
    assert _run(settings, db_url, clock).tasks == 2
    with httpx.Client(timeout=30) as http:
        login(settings, http, db_url, lambda url: approve(http, url, brand.username))
    with psycopg.connect(db_url) as conn, conn.transaction():
        assert conn.execute(
            "select needs_reauth from ops.account_state where account_id = %s",
            (creator.account_id,),
        ).fetchone() == (False,)
        assert len(replay(conn, now=clock())) == 1
    summary = _run(settings, db_url, clock)
    assert (summary.stats.done, summary.stats.parked) == (3, 0)  # the public creator included
    assert _login_row(db_url)[3:] == (False, None)
    with psycopg.connect(db_url) as conn:
        pages = conn.execute(
            "select count(*) from bronze.raw_records where account_id = %s and http_status = 200",
            (creator.account_id,),
        ).fetchone()[0]
    assert pages == 1


def test_the_end_of_data_access_needs_a_new_login_whatever_the_renewals(brand_world, db_url):
    sandbox, settings, _brand, creator = brand_world
    clock = SharedClock(sandbox.world)
    ends = _login_row(db_url)[2]  # 90 days after the login
    clock.sleep(55 * DAY)
    assert _run(settings, db_url, clock).stats.parked == 0  # renewed: valid to day 115
    renewed = _login_row(db_url)
    assert renewed[1] > ends and renewed[2] == ends
    clock.sleep(36 * DAY)  # day 91: the token is valid, its data access is over
    summary = _run(settings, db_url, clock)
    assert (summary.stats.done, summary.stats.parked) == (2, 1)
    reason = _login_row(db_url)[4]
    assert reason == (
        f"its data access ended on {ends.astimezone(UTC):%Y-%m-%d %H:%M} UTC (90 days after the "
        "login; no renewal extends it): the brand must log in again: analisa track login"
    )
    with psycopg.connect(db_url) as conn:
        parked = conn.execute(
            "select parked_reason from ops.account_state where account_id = %s",
            (creator.account_id,),
        ).fetchone()[0]
    assert parked == f"needs_reauth: {reason}"
