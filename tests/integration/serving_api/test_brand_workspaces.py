"""Brands belong to a workspace: two workspaces each with a brand "Acme Fit" see their own
rankings only, a brand gold built for a workspace (an example brand of `default`) is listed
for that workspace alone, and another workspace's brand is a 404 from every route."""

from __future__ import annotations

import psycopg
import pytest

from tests.integration.serving_api.gold_fixture import api, bearer, build_gold, build_workspaces

# rival's own "Acme Fit": it ranks ig2 (on both lists) and tt9 (rival's only), on its own target
RIVAL_ACME_FIT = [("instagram", "ig2", 12.5, 0.125), ("tiktok", "tt9", 60.0, 0.6)]


@pytest.fixture
def two_acmes(db_url: str):
    build_gold(db_url)
    ids = build_workspaces(db_url)
    with psycopg.connect(db_url) as conn:
        default_id = conn.execute(
            "select workspace_id from ops.workspaces where name = 'default'"
        ).fetchone()[0]
        conn.execute(
            "insert into ops.brands (workspace_id, brand_name) values (%s, 'Acme Fit')",
            (ids["rival"],),
        )
        conn.cursor().executemany(
            "insert into gold.brand_influencer_fit"
            " (workspace_id, brand_name, platform, account_id, fit_score, audience_age_share)"
            " values (%s, 'Acme Fit', %s, %s, %s, %s)",
            [(ids["rival"], *row) for row in RIVAL_ACME_FIT],
        )
        # what dbt builds: the example brands land in `default`, never in ops.brands
        conn.execute(
            "create table gold.dim_brands (workspace_id bigint, workspace text, brand_name text,"
            " brand_source text)"
        )
        conn.execute(
            "insert into gold.dim_brands values (%s, 'default', 'Viaja Mais (example)', 'example'),"
            " (%s, 'acme', 'Acme Fit', 'added'), (%s, 'rival', 'Acme Fit', 'added')",
            (default_id, ids["acme"], ids["rival"]),
        )
    return db_url, {**ids, "default": default_id}


def ranking(client, headers, brand="Acme%20Fit"):
    response = client.get(f"/v1/brands/{brand}/fit", headers=headers)
    assert response.status_code == 200, response.text
    return [(r["account_id"], r["fit_score"]) for r in response.json()["items"]]


def test_each_workspace_sees_its_own_brand_of_one_name(two_acmes):
    url, ids = two_acmes
    with api(url) as client:
        acme = bearer(client, ids["acme"], "analyst")
        rival = bearer(client, ids["rival"], "analyst", "rival")
        default = bearer(client, ids["default"], "analyst", "default")

        # acme's list is ig1 ig2 ig3 tt1 tt2, rival's ig2 tt9: each ranking is its own brand's
        assert ranking(client, acme) == [("ig1", 88.0), ("ig2", 40.0), ("tt1", None)]
        assert ranking(client, rival) == [("tt9", 60.0), ("ig2", 12.5)]
        # the search's fit filter and sort read the same brand as the ranking
        searched = client.get("/v1/influencers?brand=Acme+Fit&sort=fit", headers=rival).json()
        assert [(i["account_id"], i["fit_score"]) for i in searched["items"]] == [
            ("tt9", 60.0),
            ("ig2", 12.5),
        ]

        assert client.get("/v1/brands", headers=acme).json() == {"items": ["Acme Fit"]}
        assert client.get("/v1/brands", headers=rival).json() == {"items": ["Acme Fit", "Rival Co"]}
        # an example brand: listed for `default` only (a 200 with no rows, nothing ranked yet)
        assert client.get("/v1/brands", headers=default).json() == {
            "items": ["Viaja Mais (example)"]
        }
        assert ranking(client, default, "Viaja%20Mais%20%28example%29") == []
        for other in (acme, rival):
            answer = client.get("/v1/brands/Viaja%20Mais%20%28example%29/fit", headers=other)
            assert answer.status_code == 404
        assert client.get("/v1/brands/Acme%20Fit/fit", headers=default).status_code == 404
        assert client.get("/v1/influencers?brand=Rival+Co", headers=acme).status_code == 404


def test_a_fit_table_built_before_workspaces_is_503_not_a_leak(two_acmes):
    url, ids = two_acmes
    with psycopg.connect(url) as conn:
        conn.execute("alter table gold.brand_influencer_fit drop column workspace_id")
    with api(url) as client:
        answer = client.get(
            "/v1/brands/Acme%20Fit/fit", headers=bearer(client, ids["acme"], "analyst")
        )
    assert answer.status_code == 503
    assert "not built with workspaces yet" in answer.json()["detail"]
