"""The serving API against real PostgreSQL and Redis, on a small hand-made gold layer."""

from __future__ import annotations

import psycopg
import pytest

from serving_api.gold import GOLD_NOT_BUILT
from tests.integration.serving_api.gold_fixture import (
    api,
    bearer,
    build_gold,
    build_workspaces,
)

PROBLEM = "application/problem+json"


@pytest.fixture
def gold_db(db_url: str) -> str:
    build_gold(db_url)
    return db_url


@pytest.fixture
def workspaces(gold_db: str) -> dict[str, int]:
    return build_workspaces(gold_db)


@pytest.fixture
def client(gold_db: str, workspaces):
    with api(gold_db) as client:
        client.headers.update(bearer(client, workspaces["acme"], "analyst"))
        yield client


def ids(response) -> list[str]:
    return [item["account_id"] for item in response.json()["items"]]


# --- search ---------------------------------------------------------------------------------


def test_search_lists_only_the_workspace_influencers_by_engagement(client):
    response = client.get("/v1/influencers")

    assert response.status_code == 200
    body = response.json()
    assert ids(response) == ["tt2", "ig1", "tt1", "ig2", "ig3"]  # tt9 is rival's only
    assert (body["total"], body["limit"], body["next_cursor"]) == (5, 20, None)
    assert body["items"][1] == {
        "platform": "instagram",
        "account_id": "ig1",
        "username": "alice",
        "followers": 10000,
        "median_engagement_rate": 5.0,
        "mean_engagement_rate": None,
        "followers_growth_30d": None,
        "followers_growth_30d_pct": 8.0,
        "sponsored_share": 0.25,
        "quality_score": 92.5,
        "fit_score": None,
        "captured_at": "2025-02-10T00:00:00Z",
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("sort=-engagement", ["ig2", "ig1", "tt1", "tt2", "ig3"]),
        ("sort=followers", ["tt1", "ig2", "ig1", "ig3", "tt2"]),
        ("sort=growth", ["tt1", "ig1", "tt2", "ig2", "ig3"]),
        ("sort=quality", ["ig1", "tt1", "ig2", "ig3", "tt2"]),
        ("platform=tiktok&sort=-followers", ["tt2", "tt1"]),
        ("followers_min=3000&followers_max=50000&sort=followers", ["ig2", "ig1", "ig3"]),
        ("engagement_min=5&engagement_max=6", ["ig1", "tt1"]),
        ("growth_min=0&growth_max=10", ["tt2", "ig1"]),
        ("quality_min=50", ["ig1"]),
        ("sponsored_share_min=0.2", ["ig1", "tt1"]),
        ("interest=fitness&interest_min_share=0.5", ["ig1"]),
        ("interest=fitness", ["ig1", "ig2"]),
        ("country=BR&country_min_share=0.5", ["ig1"]),
        ("country=BR&country_min_share=0.3", ["ig1", "ig2"]),
        ("country=US", ["tt1"]),
        ("age=25-34&age_min_share=0.6&gender=F&gender_min_share=0.7", ["ig1"]),
        ("q=ALI", ["ig1"]),
        ("q=%25", []),  # a literal %, not a wildcard
        ("brand=Acme+Fit&sort=fit", ["ig1", "ig2", "ig3", "tt1", "tt2"]),
        ("brand=Acme+Fit&fit_min=50", ["ig1"]),
    ],
)
def test_search_filters_and_sorts(client, query, expected):
    response = client.get(f"/v1/influencers?{query}")
    assert response.status_code == 200, response.text
    assert ids(response) == expected
    assert response.json()["total"] == len(expected)


def test_search_cursor_pages_are_contiguous(client):
    seen, cursor, pages = [], None, 0
    while True:
        url = "/v1/influencers?limit=2" + (f"&cursor={cursor}" if cursor else "")
        body = client.get(url).json()
        seen += [i["account_id"] for i in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert (seen, pages) == (["tt2", "ig1", "tt1", "ig2", "ig3"], 3)


def test_cursor_of_other_filters_or_forged_is_404_no_such_page(client):
    cursor = client.get("/v1/influencers?limit=2").json()["next_cursor"]
    other = client.get(f"/v1/influencers?limit=2&sort=followers&cursor={cursor}")
    forged = client.get("/v1/influencers?limit=2&cursor=eyJvIjo5OTk5OTk5OTk5OTk5OTk5OTk5OX0")
    for response in (other, forged):
        assert response.status_code == 404
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["detail"].startswith("cursor:")


def test_another_workspaces_brand_is_404_and_sort_by_fit_without_one_is_the_tiebreak(client):
    assert client.get("/v1/influencers?brand=Rival+Co").status_code == 404
    assert client.get("/v1/brands/Rival%20Co/fit").status_code == 404
    no_brand = client.get("/v1/influencers?sort=fit")  # every fit null: the tiebreak orders
    assert ids(no_brand) == ["ig1", "ig2", "ig3", "tt1", "tt2"]


# --- one influencer -------------------------------------------------------------------------


def test_scorecard(client):
    body = client.get("/v1/influencers/instagram/ig1").json()
    assert (body["username"], body["followers"], body["quality_score"]) == ("alice", 10000, 92.5)
    assert body["top_interests"] == [
        {"interest": "fitness", "posts_with_interest": 9, "share": 0.75},
        {"interest": "food", "posts_with_interest": 3, "share": 0.25},
    ]
    assert body["top_audience"] == {
        "age": {"segment": "25-34", "share": 0.6},
        "country": {"segment": "BR", "share": 0.8},
        "gender": {"segment": "F", "share": 0.7},
    }


def test_another_workspaces_influencer_is_404_like_an_unknown_one(client, workspaces):
    hidden = client.get("/v1/influencers/tiktok/tt9")
    unknown = client.get("/v1/influencers/tiktok/nobody")
    assert hidden.status_code == unknown.status_code == 404
    assert hidden.json()["detail"] == "influencer tiktok/tt9 not found"
    assert unknown.json()["detail"] == "influencer tiktok/nobody not found"
    rival = bearer(client, workspaces["rival"], "viewer", "rival")
    assert client.get("/v1/influencers/tiktok/tt9", headers=rival).status_code == 200
    assert ids(client.get("/v1/influencers", headers=rival)) == ["tt9", "ig2"]


def test_daily_series_in_range(client):
    body = client.get("/v1/influencers/instagram/ig1/daily?start=2025-02-09&end=2025-02-10").json()
    assert [d["day"] for d in body["days"]] == ["2025-02-09", "2025-02-10"]
    assert body["days"][1]["followers_growth_30d_pct"] == 8.0
    assert body["days"][1]["median_engagement_rate_30d"] == 5.0
    too_long = client.get("/v1/influencers/instagram/ig1/daily?start=2020-01-01&end=2025-02-10")
    backwards = client.get("/v1/influencers/instagram/ig1/daily?start=2025-02-10&end=2025-02-01")
    assert (too_long.json()["start"], len(too_long.json()["days"])) == ("2024-02-11", 3)
    assert (backwards.status_code, backwards.json()["days"]) == (200, [])


def test_posts_recent_top_and_sponsored(client):
    recent = client.get("/v1/influencers/instagram/ig1/posts?limit=3").json()["items"]
    top = client.get("/v1/influencers/instagram/ig1/posts?order=top&limit=2").json()["items"]
    sponsored = client.get("/v1/influencers/instagram/ig1/posts?sponsored=true").json()["items"]
    organic = client.get("/v1/influencers/instagram/ig1/posts?sponsored=false").json()["items"]

    assert [p["post_id"] for p in recent] == ["p12", "p11", "p10"]  # deleted d1 never shows
    assert [p["post_id"] for p in top] == ["p12", "p11"]
    assert [p["post_id"] for p in sponsored] == ["p12", "p08", "p04"]
    assert len(organic) == 9
    assert sponsored[0]["sponsored_marker"] == "#publi"
    assert sponsored[0]["caption"] == "treino de hoje #publi"
    assert sponsored[0]["permalink"] == "https://www.instagram.com/p/p12/"


def test_audience_interests_quality_and_fit(client):
    audience = client.get("/v1/influencers/instagram/ig1/audience").json()
    assert [s["segment"] for s in audience["dimensions"]["country"]] == ["BR", "PT"]
    interests = client.get("/v1/influencers/tiktok/tt1/interests").json()["items"]
    assert interests == [{"interest": "gaming", "posts_with_interest": 4, "share": 1.0}]

    quality = client.get("/v1/influencers/tiktok/tt1/quality").json()
    assert (quality["quality_score"], quality["tier"]) == (40.0, "mid")
    assert quality["signals"][0] == {
        "name": "follower_spike",
        "value": 6.0,
        "threshold": 3.5,
        "flagged": True,
        "null_reason": None,
    }
    short = client.get("/v1/influencers/instagram/ig3/quality").json()
    assert (short["quality_score"], short["insufficient_data"]) == (None, True)
    assert short["insufficient_reason"] == "two captures (seven needed)"

    fit = client.get("/v1/brands/Acme%20Fit/fit").json()
    assert [(r["account_id"], r["fit_score"]) for r in fit["items"]] == [
        ("ig1", 88.0),
        ("ig2", 40.0),
        ("tt1", None),
    ]  # tt9 fits best but is not on acme's list
    assert fit["items"][0]["components"] == {"audience_age_share": 0.6, "interest_overlap": 1.0}
    assert client.get("/v1/brands").json() == {"items": ["Acme Fit"]}


def test_freshness(gold_db, client):
    with psycopg.connect(gold_db) as conn:
        conn.execute(
            "insert into ops.gate_row_counts (layer, table_name, row_count, recorded_at)"
            " values ('gold', 'dim_influencers', 6, '2025-02-11 00:00+00')"
        )
    tables = {t["table_name"]: t for t in client.get("/v1/meta/freshness").json()["tables"]}
    assert tables["dim_influencers"] == {
        "table_name": "dim_influencers",
        "built_at": "2025-02-11T00:00:00Z",
        "data_captured_until": "2025-02-10T00:00:00Z",
    }
    assert tables["fct_influencer_daily"]["data_captured_until"] == "2025-02-10T00:00:00Z"
    assert tables["influencer_interests"]["data_captured_until"] is None


# --- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "param"),
    [
        ("/v1/influencers?platform=youtube", "query.platform"),
        ("/v1/influencers?sort=popularity", "query.sort"),
        ("/v1/influencers?limit=0", "query.limit"),
        ("/v1/influencers?limit=101", "query.limit"),
        ("/v1/influencers?limit=ten", "query.limit"),
        ("/v1/influencers?followers_min=99999999999999999999", "query.followers_min"),
        ("/v1/influencers?engagement_min=nan", "query.engagement_min"),
        ("/v1/influencers?country=brazil", "query.country"),
        ("/v1/influencers?q=a%00b", "query.q"),
        ("/v1/influencers/youtube/ig1", "path.platform"),
        ("/v1/influencers/instagram/ig%001", "path.account_id"),
        ("/v1/influencers/instagram/" + "9" * 129, "path.account_id"),
    ],
)
def test_bad_parameters_are_422_problems_naming_the_parameter(client, url, param):
    response = client.get(url)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert [p["name"] for p in body["invalid_params"]] == [param]
    assert body["status"] == 422
    assert body["request_id"] == response.headers["x-request-id"]


def test_every_error_has_the_problem_shape(client):
    not_allowed = client.post("/v1/admin/lists/instagram/ig1")
    assert not_allowed.headers["allow"] == "DELETE, PUT"
    answers = {
        404: client.get("/v1/nothing-here"),
        405: client.delete("/v1/influencers"),
        401: client.get("/v1/influencers", headers={"Authorization": "Bearer nope"}),
    }
    for status, response in answers.items():
        assert response.status_code == status
        assert response.headers["content-type"] == PROBLEM
        assert set(response.json()) >= {"type", "title", "status", "detail", "request_id"}


def test_gold_not_built_is_503(db_url):
    ids_ = build_workspaces(db_url)
    with api(db_url) as client:
        headers = bearer(client, ids_["acme"], "viewer")
        response = client.get("/v1/influencers", headers=headers)
        ready = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["detail"] == GOLD_NOT_BUILT
    assert (ready.status_code, ready.json()["gold"]) == (200, "not_built")


def test_database_down_is_503_and_healthz_still_200():
    with api("postgresql://postgres@127.0.0.1:1/postgres") as client:
        headers = bearer(client, 1, "viewer")
        listing = client.get("/v1/influencers", headers=headers)
        ready = client.get("/readyz")
        health = client.get("/healthz")
    assert listing.status_code == 503
    assert listing.json()["detail"].startswith("database unavailable")
    assert ready.status_code == 503
    assert ready.json() == {
        "status": "error",
        "database": "error",
        "cache": "disabled",
        "gold": "unknown",
        "gold_version": None,
    }
    assert (health.status_code, health.json()) == (200, {"status": "ok"})


# --- the API's database role ---------------------------------------------------------------


def test_api_connections_cannot_write_nor_read_outside_gold(client):
    pool = client.app.state.gold.pool
    with pool.connection() as conn, pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        conn.execute("delete from gold.dim_influencers")
    with pool.connection() as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("select count(*) from bronze.raw_records")
    with pool.connection() as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("select count(*) from ops.oauth_tokens")


def test_api_login_role_reads_gold_only(gold_db, workspaces):
    from serving_api.db_role import api_login_url

    url = api_login_url(gold_db)
    with psycopg.connect(url) as conn:
        assert conn.execute("select count(*) from gold.dim_influencers").fetchone() == (6,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select count(*) from bronze.raw_records")
    with psycopg.connect(url, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("delete from gold.dim_influencers")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("set role postgres")
    with api(gold_db, ANALISA_API_DATABASE_URL=url) as client:
        response = client.get(
            "/v1/influencers", headers=bearer(client, workspaces["acme"], "viewer")
        )
    assert ids(response) == ["tt2", "ig1", "tt1", "ig2", "ig3"]


# --- operations -----------------------------------------------------------------------------


def test_metrics_count_routes_statuses_and_cache(client):
    client.get("/v1/influencers")
    client.get("/v1/influencers/tiktok/tt9")
    text = client.get("/metrics").text
    assert (
        'analisa_api_request_duration_seconds_bucket{le="0.1",method="GET",route="/v1/influencers"}'
        in text
    )
    assert 'route="/v1/influencers/{platform}/{account_id}",status="404"' in text
    assert 'analisa_api_errors_total{status="404"}' in text
    assert 'analisa_api_cache_lookups_total{result="bypass"}' in text


def test_docs_and_redoc_assets_are_served_by_the_app(client):
    docs = client.get("/docs")
    redoc = client.get("/redoc")
    assert docs.status_code == redoc.status_code == 200
    assert "cdn" not in (docs.text + redoc.text).lower()
    for page, asset in (
        (docs, "swagger-ui-bundle.js"),
        (docs, "swagger-ui.css"),
        (redoc, "redoc.standalone.js"),
    ):
        path = f"/static-offline-docs/{asset}"
        assert path in page.text
        fetched = client.get(path)
        assert fetched.status_code == 200
        assert len(fetched.content) > 10_000
    spec = client.get("/openapi.json").json()
    operation_ids = {op["operationId"] for path in spec["paths"].values() for op in path.values()}
    assert {"search_influencers", "get_scorecard", "rank_brand_fit", "issue_token"} <= operation_ids
    assert all("_v1_" not in op for op in operation_ids)


def test_cors_is_configurable(gold_db, workspaces):
    with api(gold_db, ANALISA_API_CORS_ORIGINS="https://app.example.com") as client:
        allowed = client.options(
            "/v1/influencers",
            headers={"Origin": "https://app.example.com", "Access-Control-Request-Method": "GET"},
        )
        other = client.get("/healthz", headers={"Origin": "https://evil.example.com"})
    assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"
    assert "access-control-allow-origin" not in other.headers
