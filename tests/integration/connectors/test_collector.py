"""The collector against the sandbox and a real PostgreSQL: throttling stops the calls and
waits as long as the platform says; a task's records and ledger row commit together, so a
crash before the commit is replayed in full and a redelivery after it changes nothing."""

import httpx
import psycopg
import pytest

import connectors.collector as collector_module
from analisa.cli.sandbox_accounts import connect_sandbox_accounts
from analisa.core.crypto import TokenVault
from analisa.core.settings import Settings
from connectors.collection_run import run_collection
from connectors.collector import Collector
from connectors.queue import InProcessQueue
from connectors.rate_budget import RateBudget
from connectors.tasks import CollectionTask
from connectors.token_store import save_token
from sandbox.server import SandboxServer
from sandbox.world import SandboxConfig


class FakeClock:
    def __init__(self):
        self.now = 1_000_000.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


@pytest.fixture
def connected(db_url, monkeypatch):
    config = SandboxConfig(seed=3, influencers_per_platform=1, posts_per_influencer=4)
    with SandboxServer(config) as sandbox:
        for key, value in sandbox.settings_overrides().items():
            monkeypatch.setenv(key, value)
        settings = Settings()
        with httpx.Client(timeout=30) as http:
            connections = connect_sandbox_accounts(settings, http)
        vault = TokenVault(settings.vault_key.get_secret_value())
        with psycopg.connect(db_url) as conn, conn.transaction():
            for c in connections:
                save_token(conn, vault, c.token, username=c.username)
        yield settings, sandbox.world, db_url


def _ledger(url):
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select task_id, outcome, records from bronze.collection_ledger order by committed_at"
        ).fetchall()


def test_throttle_stops_calls_and_waits_as_told(connected):
    settings, world, url = connected
    account = world.accounts("instagram")[0]
    world.inject_fault("instagram", "media", "throttle", count=1)
    clock = FakeClock()
    queue = InProcessQueue(clock=clock, sleep=clock.sleep)
    budget = RateBudget(clock=clock)
    start = clock.now
    summary = run_collection(settings, url, ("instagram",), queue=queue, budget=budget)

    ledger = _ledger(url)
    first, second = ledger
    # the first attempt stored what it got (profile + the throttled page) and stopped calling
    assert first[0].endswith(f"instagram:{account.account_id}:a0")
    assert (first[1], first[2]) == ("retry", 2)
    assert second[0].endswith(f"instagram:{account.account_id}:a1") and second[1] == "done"
    # the sandbox said 5 minutes (estimated_time_to_regain_access): the retry came no sooner
    assert clock.now - start >= config_minutes(world) * 60
    assert (summary.stats.done, summary.stats.retried) == (1, 1)
    with psycopg.connect(url) as conn:
        throttled = conn.execute(
            "select http_status, body -> 'error' ->> 'code' from bronze.raw_records "
            "where task_id = %s and endpoint = 'media'",
            (first[0],),
        ).fetchall()
    assert throttled == [(400, "4")]


def config_minutes(world):
    return world.config.throttle_fault_minutes


def test_crash_before_commit_is_replayed_and_redelivery_changes_nothing(connected, monkeypatch):
    settings, world, url = connected
    account = world.accounts("tiktok")[0]
    task = CollectionTask("tiktok", account.account_id, "run-x")
    collector = Collector(settings, url)

    real_write = collector_module.write_records

    def crash(*args, **kwargs):
        raise RuntimeError("worker killed mid-task")

    monkeypatch.setattr(collector_module, "write_records", crash)
    with pytest.raises(RuntimeError):
        collector.handle(task)
    assert _ledger(url) == []  # nothing half-written

    monkeypatch.setattr(collector_module, "write_records", real_write)
    outcome = collector.handle(task)
    # user_info + one page of 4 videos
    assert (outcome.kind, outcome.records) == ("done", 2)
    again = collector.handle(task)  # the broker redelivers after a lost ack
    assert (again.kind, again.records, again.replayed) == ("done", 0, True)
    with psycopg.connect(url) as conn:
        count = conn.execute("select count(*) from bronze.raw_records").fetchone()[0]
    assert count == 2
    assert [(r[1], r[2]) for r in _ledger(url)] == [("done", 2)]


def test_network_failure_keeps_what_arrived_and_retries(connected):
    settings, world, url = connected
    account = world.accounts("tiktok")[0]
    # the platform host goes unreachable after the first answer
    real = httpx.HTTPTransport()
    calls = {"n": 0}

    class FlakyTransport(httpx.BaseTransport):
        def handle_request(self, request):
            calls["n"] += 1
            if calls["n"] > 1:
                raise httpx.ConnectError("connection refused")
            return real.handle_request(request)

    collector = Collector(settings, url, http=httpx.Client(transport=FlakyTransport()))
    outcome = collector.handle(CollectionTask("tiktok", account.account_id, "run-n"))
    assert (outcome.kind, outcome.delay_seconds, outcome.records) == ("retry", 30, 1)
    assert outcome.reason.startswith("server: network error")
    assert [(r[1], r[2]) for r in _ledger(url)] == [("retry", 1)]
