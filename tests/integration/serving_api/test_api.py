"""The serving API against real PostgreSQL and Redis, on a small hand-made gold layer."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import psycopg
import pytest
import redis
from fastapi.testclient import TestClient

from analisa.core.gold_version import bump_gold_version, read_gold_version
from analisa.core.settings import Settings
from serving_api.app import create_app
from serving_api.gold import GOLD_NOT_BUILT

UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"
TTL = 120

GOLD_DDL = """
create schema if not exists gold;
create table gold.dim_influencers (
    platform text, account_id text, username text, followers bigint, posts_count bigint,
    median_engagement_rate numeric, mean_engagement_rate numeric, posts_collected bigint,
    captured_at timestamptz
);
create table gold.fct_post_engagement (
    platform text, account_id text, post_id text, posted_at timestamptz, media_type text,
    likes bigint, comments bigint, shares bigint, views bigint, reach bigint,
    followers_at_capture bigint, engagement_rate_followers numeric,
    engagement_rate_reach numeric, engagement_rate_views numeric, likes_hidden bool,
    is_deleted bool, captured_at timestamptz
);
create table gold.audience_segments (
    platform text, account_id text, dimension text, segment text, share numeric,
    followers_in_segment bigint, captured_at timestamptz
);
"""

# ig1 and tt1 tie on engagement (platform breaks the tie); ig3 has no rate and must sort last.
INFLUENCERS = [
    ("instagram", "ig1", "alice", 10000, 40, 5.0, 5.5, 34),
    ("instagram", "ig2", "bob", 50000, 100, 2.0, 2.25, 30),
    ("instagram", "ig3", "carol", 3000, 0, None, None, 0),
    ("tiktok", "tt1", "dan", 200000, 80, 5.0, 4.0, 1),
    ("tiktok", "tt2", "eve", 800, 12, 9.5, 10.0, 0),
]

GOLD_ROWS = """
insert into gold.fct_post_engagement
select 'instagram', 'ig1', format('p%s', lpad(i::text, 2, '0')),
       timestamptz '2025-01-01 12:00+00' + i * interval '1 day', 'IMAGE',
       case when i = 32 then null else 100 + i end, 10, 0, null, 2000, 10000,
       i / 10.0, 5.5, null, i = 32, false, timestamptz '2025-02-10 00:00+00'
from generate_series(1, 32) as i;
-- Deleted posts, one of them the newest: neither may appear among recent posts.
insert into gold.fct_post_engagement (platform, account_id, post_id, posted_at, is_deleted)
values ('instagram', 'ig1', 'd1', '2025-03-01 00:00+00', true),
       ('instagram', 'ig1', 'd2', '2025-01-01 00:00+00', true),
       ('tiktok', 'tt1', 'v1', '2025-03-02 00:00+00', false);
insert into gold.audience_segments values
    ('instagram', 'ig1', 'age', '18-24', 0.4, 4000, '2025-02-01 00:00+00'),
    ('instagram', 'ig1', 'age', '25-34', 0.5, 5000, '2025-02-01 00:00+00'),
    ('instagram', 'ig1', 'age', '35-44', 0.1, 1000, '2025-02-01 00:00+00'),
    ('instagram', 'ig1', 'gender', 'M', 0.35, 3500, '2025-02-01 00:00+00'),
    ('instagram', 'ig1', 'gender', 'F', 0.6, 6000, '2025-02-01 00:00+00'),
    ('instagram', 'ig1', 'gender', 'U', 0.05, 500, '2025-02-01 00:00+00'),
    ('instagram', 'ig1', 'country', 'BR', 0.7, 7000, '2025-02-01 00:00+00'),
    ('instagram', 'ig1', 'country', 'PT', 0.3, 3000, '2025-02-01 00:00+00'),
    -- An older snapshot: superseded, must not be served.
    ('instagram', 'ig1', 'country', 'US', 0.9, 9000, '2025-01-01 00:00+00'),
    ('tiktok', 'tt1', 'country', 'US', 1.0, 200000, '2025-02-01 00:00+00');
"""


def build_gold(db_url: str) -> None:
    with psycopg.connect(db_url) as conn:
        conn.execute(GOLD_DDL)
        with conn.cursor() as cur:
            cur.executemany(
                "insert into gold.dim_influencers values"
                " (%s, %s, %s, %s, %s, %s, %s, %s, '2025-02-10 00:00+00')",
                INFLUENCERS,
            )
        conn.execute(GOLD_ROWS)


def execute(db_url: str, statement: str) -> None:
    with psycopg.connect(db_url) as conn:
        conn.execute(statement)


@contextmanager
def api(
    db_url: str, redis_url: str | None = None, prefix: str = "analisa:", **settings
) -> Iterator[TestClient]:
    config = Settings(
        DATABASE_URL=db_url, REDIS_URL=redis_url, ANALISA_API_CACHE_TTL=TTL, **settings
    )
    with TestClient(create_app(config, redis_prefix=prefix, db_timeout_seconds=1.0)) as client:
        yield client


@pytest.fixture
def gold_db(db_url: str) -> str:
    build_gold(db_url)
    return db_url


@pytest.fixture
def client(gold_db: str) -> Iterator[TestClient]:
    with api(gold_db) as client:
        yield client


def ids(response) -> list[str]:
    return [item["account_id"] for item in response.json()["items"]]


# --- listing ------------------------------------------------------------------------------


def test_list_defaults_to_engagement_with_nulls_last_and_stable_ties(client):
    response = client.get("/v1/influencers")

    assert response.status_code == 200
    assert response.headers["X-Cache"] == "bypass"  # no Redis configured
    body = response.json()
    assert ids(response) == ["tt2", "ig1", "tt1", "ig2", "ig3"]
    assert (body["total"], body["limit"], body["offset"], body["next_offset"]) == (5, 20, 0, None)
    assert body["items"][1] == {
        "platform": "instagram",
        "account_id": "ig1",
        "username": "alice",
        "followers": 10000,
        "posts_count": 40,
        "median_engagement_rate": 5.0,
        "mean_engagement_rate": 5.5,
        "posts_collected": 34,
        "captured_at": "2025-02-10T00:00:00Z",
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("sort=engagement", ["tt2", "ig1", "tt1", "ig2", "ig3"]),
        ("sort=-engagement", ["ig2", "ig1", "tt1", "tt2", "ig3"]),
        ("sort=followers", ["tt1", "ig2", "ig1", "ig3", "tt2"]),
        ("sort=-followers", ["tt2", "ig3", "ig1", "ig2", "tt1"]),
        ("platform=instagram", ["ig1", "ig2", "ig3"]),
        ("platform=tiktok&sort=-followers", ["tt2", "tt1"]),
    ],
)
def test_list_sort_and_filter(client, query, expected):
    response = client.get(f"/v1/influencers?{query}")
    assert response.status_code == 200
    assert ids(response) == expected
    assert response.json()["total"] == len(expected)


def test_list_pages_are_contiguous_and_end_with_null_next_offset(client):
    pages = [client.get(f"/v1/influencers?limit=2&offset={o}").json() for o in (0, 2, 4, 10)]

    assert [[i["account_id"] for i in p["items"]] for p in pages] == [
        ["tt2", "ig1"],
        ["tt1", "ig2"],
        ["ig3"],
        [],
    ]
    assert [p["next_offset"] for p in pages] == [2, 4, None, None]
    assert {p["total"] for p in pages} == {5}


@pytest.mark.parametrize(
    ("url", "location"),
    [
        ("/v1/influencers?platform=youtube", ["query", "platform"]),
        ("/v1/influencers?sort=popularity", ["query", "sort"]),
        ("/v1/influencers?limit=0", ["query", "limit"]),
        ("/v1/influencers?limit=101", ["query", "limit"]),
        ("/v1/influencers?limit=ten", ["query", "limit"]),
        ("/v1/influencers?offset=-1", ["query", "offset"]),
        ("/v1/influencers/youtube/ig1", ["path", "platform"]),
    ],
)
def test_bad_parameters_are_422_naming_the_parameter(client, url, location):
    response = client.get(url)
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == location
    assert error["msg"]


def test_bad_parameter_messages_are_clear(client):
    platform = client.get("/v1/influencers?platform=youtube").json()["detail"][0]["msg"]
    limit = client.get("/v1/influencers?limit=101").json()["detail"][0]["msg"]
    assert platform == "Input should be 'instagram' or 'tiktok'"
    assert limit == "Input should be less than or equal to 100"


# --- detail -------------------------------------------------------------------------------


def test_detail_has_latest_audience_by_share_and_recent_live_posts(client):
    response = client.get("/v1/influencers/instagram/ig1")

    assert response.status_code == 200
    body = response.json()
    assert (body["username"], body["followers"], body["deleted_posts_count"]) == ("alice", 10000, 2)
    assert body["audience"] == {
        "age": [
            {"segment": "25-34", "share": 0.5, "followers_in_segment": 5000},
            {"segment": "18-24", "share": 0.4, "followers_in_segment": 4000},
            {"segment": "35-44", "share": 0.1, "followers_in_segment": 1000},
        ],
        "country": [
            {"segment": "BR", "share": 0.7, "followers_in_segment": 7000},
            {"segment": "PT", "share": 0.3, "followers_in_segment": 3000},
        ],
        "gender": [
            {"segment": "F", "share": 0.6, "followers_in_segment": 6000},
            {"segment": "M", "share": 0.35, "followers_in_segment": 3500},
            {"segment": "U", "share": 0.05, "followers_in_segment": 500},
        ],
    }
    posts = body["recent_posts"]
    assert [p["post_id"] for p in posts] == [f"p{i:02d}" for i in range(32, 2, -1)]
    newest = posts[0]
    assert newest["likes"] is None  # hidden likes stay unknown, not 0
    assert newest["likes_hidden"] is True
    assert newest["engagement_rate_followers"] == 3.2
    assert newest["posted_at"] == "2025-02-02T12:00:00Z"
    assert posts[1]["likes"] == 131


def test_detail_without_audience_or_posts(client):
    body = client.get("/v1/influencers/tiktok/tt2").json()
    assert (body["audience"], body["recent_posts"], body["deleted_posts_count"]) == ({}, [], 0)


def test_unknown_influencer_is_404_with_reason(client):
    response = client.get("/v1/influencers/tiktok/ig1")
    assert response.status_code == 404
    assert response.json() == {"detail": "influencer tiktok/ig1 not found in gold"}


# --- gold missing, database down, read-only ------------------------------------------------


def test_before_gold_exists_api_answers_503_with_reason(db_url):
    with api(db_url) as client:
        for url in ("/v1/influencers", "/v1/influencers/instagram/ig1"):
            response = client.get(url)
            assert response.status_code == 503
            assert response.json() == {"detail": GOLD_NOT_BUILT}
        health = client.get("/healthz")
    assert health.status_code == 200
    assert health.json()["gold"] == "not_built"


def test_database_down_is_503_not_500():
    with api("postgresql://postgres@127.0.0.1:1/postgres") as client:
        listing = client.get("/v1/influencers")
        health = client.get("/healthz")
    assert listing.status_code == 503
    assert listing.json()["detail"].startswith("database unavailable")
    assert health.status_code == 503
    assert health.json() == {
        "status": "error",
        "database": "error",
        "cache": "disabled",
        "gold": "unknown",
        "gold_version": None,
    }


def test_api_connections_are_read_only(client):
    with (
        client.app.state.gold.pool.connection() as conn,
        pytest.raises(psycopg.errors.ReadOnlySqlTransaction),
    ):
        conn.execute("delete from gold.dim_influencers")


# --- health -------------------------------------------------------------------------------


def test_healthz_without_redis(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "cache": "disabled",
        "gold": "ready",
        "gold_version": None,
    }


def test_healthz_with_redis_reports_gold_version(gold_db, redis_url, redis_prefix):
    with api(gold_db, redis_url, redis_prefix) as client:
        before = client.get("/healthz").json()
        bump_gold_version(redis.Redis.from_url(redis_url), redis_prefix)
        after = client.get("/healthz").json()
    assert (before["cache"], before["gold_version"]) == ("ok", 0)
    assert (after["cache"], after["gold_version"]) == ("ok", 1)


def test_healthz_with_unreachable_redis_is_still_200(gold_db):
    with api(gold_db, UNREACHABLE_REDIS) as client:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert (response.json()["cache"], response.json()["gold_version"]) == ("error", None)


# --- cache --------------------------------------------------------------------------------


def test_gold_version_bump_and_read(redis_url, redis_prefix):
    client = redis.Redis.from_url(redis_url)
    assert read_gold_version(client, redis_prefix) == 0
    assert bump_gold_version(client, redis_prefix) == 1
    assert bump_gold_version(client, redis_prefix) == 2
    assert read_gold_version(client, redis_prefix) == 2
    assert client.get(f"{redis_prefix}gold_version") == b"2"


def test_cache_miss_then_hit_under_versioned_key(gold_db, redis_url, redis_prefix):
    with api(gold_db, redis_url, redis_prefix) as client:
        first = client.get("/v1/influencers?platform=instagram")
        second = client.get("/v1/influencers?platform=instagram")
        # Same validated parameters, spelled differently: same entry.
        third = client.get("/v1/influencers?offset=0&limit=20&platform=instagram&sort=engagement")

    assert [r.headers["X-Cache"] for r in (first, second, third)] == ["miss", "hit", "hit"]
    assert first.json() == second.json() == third.json()
    assert second.headers["content-type"] == "application/json"
    query = "limit=20&offset=0&platform=instagram&sort=engagement"
    key = f"{redis_prefix}api:v1:0:/v1/influencers?{query}"
    store = redis.Redis.from_url(redis_url)
    assert store.exists(key)
    assert 0 < store.ttl(key) <= TTL


def test_bump_serves_new_gold_and_stale_until_then(gold_db, redis_url, redis_prefix):
    url = "/v1/influencers/instagram/ig1"
    with api(gold_db, redis_url, redis_prefix) as client:
        assert client.get(url).headers["X-Cache"] == "miss"
        execute(
            gold_db, "update gold.dim_influencers set followers = 12345 where account_id = 'ig1'"
        )

        stale = client.get(url)
        bump_gold_version(redis.Redis.from_url(redis_url), redis_prefix)
        fresh = client.get(url)
        again = client.get(url)

    assert (stale.headers["X-Cache"], stale.json()["followers"]) == ("hit", 10000)
    assert (fresh.headers["X-Cache"], fresh.json()["followers"]) == ("miss", 12345)
    assert (again.headers["X-Cache"], again.json()["followers"]) == ("hit", 12345)


def test_errors_are_not_cached(db_url, redis_url, redis_prefix):
    with api(db_url, redis_url, redis_prefix) as client:
        assert client.get("/v1/influencers").status_code == 503
        build_gold(db_url)
        listing = client.get("/v1/influencers")
        assert client.get("/v1/influencers/tiktok/nobody").status_code == 404
        assert client.get("/v1/influencers/tiktok/nobody").status_code == 404

    assert (listing.status_code, listing.headers["X-Cache"]) == (200, "miss")
    assert not list(redis.Redis.from_url(redis_url).scan_iter(match=f"{redis_prefix}*nobody*"))


def test_unreachable_redis_serves_postgres_and_warns_once(gold_db, caplog):
    caplog.set_level(logging.WARNING, logger="serving_api.cache")
    with api(gold_db, UNREACHABLE_REDIS) as client:
        responses = [client.get("/v1/influencers") for _ in range(3)]
        detail = client.get("/v1/influencers/instagram/ig1")

    assert [r.status_code for r in [*responses, detail]] == [200] * 4
    assert {r.headers["X-Cache"] for r in [*responses, detail]} == {"bypass"}
    assert ids(responses[0]) == ["tt2", "ig1", "tt1", "ig2", "ig3"]
    assert len([r for r in caplog.records if "Redis cache unavailable" in r.getMessage()]) == 1


def test_concurrent_requests_wait_for_the_bounded_redis_pool(gold_db, redis_url, redis_prefix):
    # Two connections for 40 concurrent requests: they queue instead of failing.
    with (
        api(gold_db, redis_url, redis_prefix, ANALISA_API_REDIS_MAX_CONNECTIONS=2) as client,
        ThreadPoolExecutor(max_workers=40) as executor,
    ):
        responses = list(executor.map(lambda _: client.get("/v1/influencers"), range(80)))

    assert {r.status_code for r in responses} == {200}
    assert {r.headers["X-Cache"] for r in responses} <= {"hit", "miss"}
