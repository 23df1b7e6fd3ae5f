"""The cache: hits, ETags, gold rebuilds, single-flight, rate limits, and Redis dying mid-test."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from analisa.core.gold_version import bump_gold_version
from tests.integration.serving_api.gold_fixture import api, bearer, build_gold, build_workspaces


@pytest.fixture
def gold(db_url, redis_url, redis_prefix):
    build_gold(db_url)
    return db_url, build_workspaces(db_url), redis_url, redis_prefix


def test_miss_then_hit_with_etag_and_304(gold):
    url, ws, redis_url, prefix = gold
    with api(url, redis_url, prefix) as client:
        client.headers.update(bearer(client, ws["acme"], "viewer"))
        first = client.get("/v1/influencers?platform=instagram")
        second = client.get("/v1/influencers?platform=instagram")
        same = client.get("/v1/influencers?limit=20&sort=engagement&platform=instagram")
        etag = second.headers["etag"]
        not_modified = client.get(
            "/v1/influencers?platform=instagram", headers={"If-None-Match": etag}
        )
        changed = client.get(
            "/v1/influencers?platform=instagram", headers={"If-None-Match": '"0000"'}
        )
    assert [r.headers["x-cache"] for r in (first, second, same)] == ["miss", "hit", "hit"]
    assert first.content == second.content == same.content
    assert first.headers["etag"] == etag and len(etag) == 18
    assert (not_modified.status_code, not_modified.content) == (304, b"")
    assert changed.status_code == 200
    keys = list(redis.Redis.from_url(redis_url).scan_iter(match=f"{prefix}api:v1:*"))
    assert len(keys) == 1 and b":0:0:" in keys[0]  # gold version 0, workspace version 0


def test_gold_rebuild_invalidates_the_cache(gold):
    url, ws, redis_url, prefix = gold
    import psycopg

    with api(url, redis_url, prefix) as client:
        client.headers.update(bearer(client, ws["acme"], "viewer"))
        assert client.get("/v1/influencers/instagram/ig1").headers["x-cache"] == "miss"
        with psycopg.connect(url) as conn:
            conn.execute(
                "update gold.dim_influencers set followers = 12345 where account_id = 'ig1'"
            )
        stale = client.get("/v1/influencers/instagram/ig1")
        bump_gold_version(redis.Redis.from_url(redis_url), prefix)  # what a gated gold build does
        fresh = client.get("/v1/influencers/instagram/ig1")
    assert (stale.headers["x-cache"], stale.json()["followers"]) == ("hit", 10000)
    assert (fresh.headers["x-cache"], fresh.json()["followers"]) == ("miss", 12345)


def test_concurrent_misses_load_once(gold):
    url, ws, redis_url, prefix = gold
    with api(url, redis_url, prefix) as client:
        headers = bearer(client, ws["acme"], "viewer")
        reader = client.app.state.gold
        calls, original = [], reader.search

        def slow_search(*args, **kwargs):
            calls.append(threading.get_ident())
            time.sleep(0.3)
            return original(*args, **kwargs)

        reader.search = slow_search
        with ThreadPoolExecutor(max_workers=20) as pool:
            responses = list(
                pool.map(lambda _: client.get("/v1/influencers", headers=headers), range(20))
            )
    assert {r.status_code for r in responses} == {200}
    assert len(calls) == 1
    assert len({r.content for r in responses}) == 1


def test_rate_limit_is_429_with_retry_after_per_client(gold):
    url, ws, redis_url, prefix = gold
    with api(url, redis_url, prefix, ANALISA_API_RATE_LIMIT=3) as client:
        mine = bearer(client, ws["acme"], "admin")
        statuses = [client.get("/v1/influencers", headers=mine).status_code for _ in range(3)]
        limited = client.get("/v1/influencers/instagram/ig1", headers=mine)
        admin_limited = client.get("/v1/admin/clients", headers=mine)
        other = client.get("/v1/influencers", headers=bearer(client, ws["acme"], "viewer"))
    assert statuses == [200, 200, 200]
    assert limited.status_code == admin_limited.status_code == 429
    assert 1 <= int(limited.headers["retry-after"]) <= 61
    assert limited.headers["content-type"] == "application/problem+json"
    assert other.status_code == 200  # another client (subject) has its own budget


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server not installed")
def test_redis_stopped_mid_test_still_200(db_url, tmp_path):
    build_gold(db_url)
    ws = build_workspaces(db_url)
    port = _free_port()
    server = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        redis_url = f"redis://127.0.0.1:{port}/0"
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(redis_url).ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        with api(db_url, redis_url, "t:") as client:
            client.headers.update(bearer(client, ws["acme"], "viewer"))
            before = [client.get("/v1/influencers").headers["x-cache"] for _ in range(2)]
            server.terminate()
            server.wait(timeout=10)
            during = [client.get(u) for u in ("/v1/influencers", "/v1/influencers/tiktok/tt1")]
            ready = client.get("/readyz").json()
    finally:
        if server.poll() is None:
            server.kill()
    assert before == ["miss", "hit"]
    assert [r.status_code for r in during] == [200, 200]
    assert {r.headers["x-cache"] for r in during} == {"bypass"}
    assert [i["account_id"] for i in during[0].json()["items"]] == [
        "tt2",
        "ig1",
        "tt1",
        "ig2",
        "ig3",
    ]
    assert (ready["cache"], ready["database"]) == ("error", "ok")
