"""The fast path for cached authenticated GETs (serving_api/fast_path.py): its answers equal the
normal path's, an entry is never reached by a request FastAPI would answer differently, bad
tokens and rate limits behave as on the normal path, and Redis dying still gives 200s."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
import redis
from fastapi.testclient import TestClient

from analisa.core.gold_version import bump_gold_version
from analisa.core.settings import Settings
from serving_api.app import create_app
from serving_api.metrics import RESPONSES
from serving_api.workspaces import add_influencer, create_workspace

GOLD = """
create table gold.dim_influencers (
    platform text, account_id text, username text, followers bigint,
    median_engagement_rate numeric, followers_growth_30d_pct numeric, sponsored_share numeric,
    captured_at timestamptz
);
insert into gold.dim_influencers values
    ('instagram', 'ig1', 'alice', 10000, 5.0, 8.0, 0.25, '2025-02-10 00:00+00'),
    ('instagram', 'ig2', 'bob', 50000, 2.0, -1.5, 0.0, '2025-02-10 00:00+00'),
    ('tiktok', 'tt1', 'dan', 200000, 4.0, 30.0, 0.5, '2025-02-10 00:00+00');
create table gold.influencer_quality (
    platform text, account_id text, tier text, quality_score numeric
);
insert into gold.influencer_quality values ('instagram', 'ig1', 'micro', 92.5);
create table gold.fct_influencer_daily (
    platform text, account_id text, day date, followers bigint
);
insert into gold.fct_influencer_daily values ('instagram', 'ig1', current_date - 1, 9990);
"""

REQUEST_ID = "fast-path-test-0001"


@contextmanager
def api(db_url: str, redis_url: str, prefix: str, **values) -> Iterator[TestClient]:
    settings = Settings(
        DATABASE_URL=db_url, REDIS_URL=redis_url, ANALISA_API_CACHE_TTL=120, **values
    )
    with TestClient(create_app(settings, redis_prefix=prefix, db_timeout_seconds=1.0)) as client:
        yield client


def token(client: TestClient, workspace_id: int, role: str = "viewer", ttl: int = 600) -> dict:
    value, _ = client.app.state.tokens.issue(
        subject=f"test:{workspace_id}:{role}",
        workspace_id=workspace_id,
        workspace=f"ws{workspace_id}",
        role=role,
        ttl_seconds=ttl,
    )
    return {"Authorization": f"Bearer {value}", "X-Request-ID": REQUEST_ID}


class Routes:
    """Counts the requests that reached a route's ResponseCache.respond (the normal path)."""

    def __init__(self, client: TestClient) -> None:
        cache = client.app.state.cache
        self.calls = 0
        original = cache.respond

        async def counted(*args, **kwargs):
            self.calls += 1
            return await original(*args, **kwargs)

        cache.respond = counted

    def reached(self, send) -> bool:
        before = self.calls
        send()
        return self.calls > before


@pytest.fixture
def gold(db_url, redis_url, redis_prefix):
    with psycopg.connect(db_url) as conn:
        conn.execute(GOLD)
        ids = {}
        for name, accounts in (("acme", ["ig1", "ig2", "tt1"]), ("rival", ["ig1"])):
            ids[name] = create_workspace(conn, name).workspace_id
            for account in accounts:
                add_influencer(
                    conn, ids[name], "tiktok" if account[0] == "t" else "instagram", account
                )
    return db_url, ids, redis_url, redis_prefix


def not_modified_count() -> float:
    return RESPONSES.labels("/v1/influencers", "304")._value.get()


def test_a_fast_hit_equals_the_normal_answer(gold):
    url, ids, redis_url, prefix = gold
    with api(url, redis_url, prefix) as client:
        routes = Routes(client)
        before = not_modified_count()
        auth = token(client, ids["acme"])
        miss = client.get("/v1/influencers?platform=instagram&limit=5", headers=auth)
        # the same validated parameters (the default sort said): a hit of the normal path,
        # which also stores the entry of this raw query for the fast path
        query = "/v1/influencers?sort=engagement&limit=5&platform=instagram"
        normal = client.get(query, headers=auth)
        assert routes.calls == 2
        fast = client.get(query, headers=auth)
        assert routes.calls == 2  # answered in front of FastAPI
        etag = fast.headers["etag"]
        normal_304 = client.get(  # a raw query not seen yet: the normal path
            "/v1/influencers?platform=instagram&limit=5&country_min_share=0",
            headers={**auth, "If-None-Match": etag},
        )
        fast_304 = client.get(
            "/v1/influencers?platform=instagram&sort=engagement&limit=5",
            headers={**auth, "If-None-Match": f'W/"0000", {etag}'},
        )
        assert routes.calls == 3
        no_id = client.get(
            query,
            headers={"Authorization": auth["Authorization"]},
        )
        after = not_modified_count()
    assert (miss.headers["x-cache"], normal.headers["x-cache"]) == ("miss", "hit")
    assert fast.status_code == 200 and fast.content == normal.content == miss.content
    assert [i["account_id"] for i in fast.json()["items"]] == ["ig1", "ig2"]
    assert fast.headers.multi_items() == normal.headers.multi_items()
    assert fast.headers["content-type"] == "application/json"
    assert fast.headers["x-request-id"] == REQUEST_ID
    assert (normal_304.status_code, fast_304.status_code) == (304, 304)
    assert fast_304.content == b""
    assert fast_304.headers.multi_items() == normal_304.headers.multi_items()
    assert no_id.content == fast.content and len(no_id.headers["x-request-id"]) == 32
    assert after == before + 2  # metrics name the route template of a fast answer too


def test_an_entry_is_never_reached_by_a_request_answered_differently(gold):
    url, ids, redis_url, prefix = gold
    scorecard = "/v1/influencers/instagram/ig1"
    with api(url, redis_url, prefix) as client:
        routes = Routes(client)
        acme, rival = token(client, ids["acme"]), token(client, ids["rival"])
        analyst = token(client, ids["acme"], "analyst")

        def get(path, headers=acme):
            return lambda: client.get(path, headers=headers)

        client.get(scorecard, headers=acme)  # the miss stores the fast path's entry too
        assert not routes.reached(get(scorecard))
        assert routes.reached(get(scorecard, rival))  # another workspace
        assert routes.reached(get(scorecard, analyst))  # another role
        # a viewer's 403 is never stored, however often an analyst reads the quality
        for _ in range(2):
            assert client.get(scorecard + "/quality", headers=analyst).status_code == 200
        assert client.get(scorecard + "/quality", headers=acme).status_code == 403

        # the workspace's list changes: its entries are left behind, the rival's stay
        client.get(scorecard, headers=rival)
        assert not routes.reached(get(scorecard, rival))
        admin = token(client, ids["acme"], "admin")
        added = client.put("/v1/admin/lists/tiktok/tt9", headers=admin)
        assert added.status_code in (200, 201)
        assert routes.reached(get(scorecard))
        assert not routes.reached(get(scorecard, rival))

        # a gold build leaves every entry behind
        client.get(scorecard, headers=acme)
        bump_gold_version(redis.Redis.from_url(redis_url), prefix)
        assert routes.reached(get(scorecard))
        assert routes.reached(get(scorecard, rival))

        # repeated parameters: the last one counts, so their order makes another answer
        for _ in range(2):
            first = client.get("/v1/influencers?limit=1&limit=2", headers=acme)
        second = client.get("/v1/influencers?limit=2&limit=1", headers=acme)
        assert (first.json()["limit"], second.json()["limit"]) == (2, 1)
        assert first.headers["etag"] != second.headers["etag"]
        # an invalid query is never answered from an entry, even one of a valid neighbour
        for _ in range(2):
            bad = client.get("/v1/influencers?limit=0", headers=acme)
            unknown = client.get("/v1/influencers?limit=2&limmit=1", headers=acme)
        assert (bad.status_code, unknown.status_code) == (422, 422)
        assert bad.headers["content-type"] == "application/problem+json"
        assert bad.json()["invalid_params"][0]["name"] == "query.limit"

        # the daily series without an end means "until today": never a fast-path entry
        for _ in range(2):
            daily = client.get(scorecard + "/daily", headers=acme)
        assert daily.json()["days"][0]["followers"] == 9990
        assert routes.reached(get(scorecard + "/daily"))
    keys = redis.Redis.from_url(redis_url).keys(f"{prefix}api:v1f:*")
    assert not any(b"/daily" in key for key in keys)
    assert not any(b"limit=0" in key or b"limmit" in key for key in keys)


def test_bad_and_expired_tokens_are_401_on_the_fast_path(gold):
    url, ids, redis_url, prefix = gold
    scorecard = "/v1/influencers/instagram/ig1"
    with api(url, redis_url, prefix, ANALISA_JWT_LEEWAY=0) as client:
        routes = Routes(client)
        value, expires = client.app.state.tokens.issue(
            subject="test:short",
            workspace_id=ids["acme"],
            workspace="acme",
            role="viewer",
            ttl_seconds=4,
        )
        short = {"Authorization": f"Bearer {value}"}
        for _ in range(2):
            assert client.get(scorecard, headers=short).status_code == 200
        assert not routes.reached(lambda: client.get(scorecard, headers=short))
        good = short["Authorization"]
        forged = good[:-2] + ("AA" if not good.endswith("AA") else "BB")
        bad = client.get(scorecard, headers={"Authorization": forged})
        basic = client.get(scorecard, headers={"Authorization": "Basic " + good[7:]})
        # past exp: the remembered verification no longer counts
        time.sleep(max(0.0, expires + 0.1 - time.time()))
        expired = client.get(scorecard, headers=short)
    assert bad.status_code == basic.status_code == expired.status_code == 401
    assert bad.json()["detail"] == "bad signature"
    assert basic.json()["detail"] == "missing bearer token"
    assert expired.json()["detail"] == "token expired"
    assert expired.headers["content-type"] == "application/problem+json"
    assert expired.headers["www-authenticate"] == 'Bearer error="invalid_token"'


def test_rate_limit_counts_fast_answers_once(gold):
    url, ids, redis_url, prefix = gold
    with api(url, redis_url, prefix, ANALISA_API_RATE_LIMIT=3) as client:
        routes = Routes(client)
        auth = token(client, ids["acme"])
        statuses = [client.get("/v1/influencers/tiktok/tt1", headers=auth) for _ in range(4)]
        other = client.get(
            "/v1/influencers/tiktok/tt1", headers=token(client, ids["acme"], "analyst")
        )
    # a miss (counted once, by the fast path), two fast hits, then the limit (the route's 429)
    assert [r.status_code for r in statuses] == [200, 200, 200, 429]
    assert routes.calls == 1 + 1 + 1  # the miss, the 429, the other client's miss
    limited = statuses[-1]
    assert limited.headers["content-type"] == "application/problem+json"
    assert 1 <= int(limited.headers["retry-after"]) <= 61
    assert limited.headers["x-request-id"] == REQUEST_ID
    assert other.status_code == 200


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server not installed")
def test_redis_stopped_then_back_still_200(gold, tmp_path):
    url, ids, _, _ = gold
    port = _free_port()
    command = ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"]
    server = subprocess.Popen([*command, "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
    redis_url = f"redis://127.0.0.1:{port}/0"

    def wait_ready() -> None:
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(redis_url).ping()
                return
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)

    try:
        wait_ready()
        with api(url, redis_url, "t:") as client:
            client.app.state.cache.retry_after_seconds = 0.2
            auth = token(client, ids["acme"])
            scorecard = "/v1/influencers/instagram/ig1"
            before = [client.get(scorecard, headers=auth).headers["x-cache"] for _ in range(3)]
            server.terminate()
            server.wait(timeout=10)
            during = [client.get(scorecard, headers=auth) for _ in range(3)]
            server = subprocess.Popen([*command, "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
            wait_ready()
            time.sleep(0.3)  # past the pause after the failure
            after = [client.get(scorecard, headers=auth).headers["x-cache"] for _ in range(3)]
    finally:
        if server.poll() is None:
            server.terminate()
            server.wait(timeout=10)
    assert before == ["miss", "hit", "hit"]
    assert [r.status_code for r in during] == [200, 200, 200]
    assert {r.headers["x-cache"] for r in during} == {"bypass"}
    assert during[0].json()["followers"] == 10000
    assert after == ["miss", "hit", "hit"]  # the cache recovered by itself
