"""GET /v1/influencers/{platform}/{account_id}/similar: lookalikes among the caller's workspace
only, read as the API's own database role, on hand-made content vectors."""

from __future__ import annotations

import psycopg
import pytest

from tests.integration.serving_api.gold_fixture import api, bearer, build_gold, build_workspaces

# Unit vectors: cosine to ig1 = ig2 0.8, tt1 0.6, ig3 0; tt9 (rival's list only) equals ig1.
VECTORS = {
    ("instagram", "ig1"): [1.0, 0.0, 0.0],
    ("instagram", "ig2"): [0.8, 0.6, 0.0],
    ("instagram", "ig3"): [0.0, 1.0, 0.0],
    ("tiktok", "tt1"): [0.6, 0.8, 0.0],
    ("tiktok", "tt9"): [1.0, 0.0, 0.0],
}


@pytest.fixture
def gold_db(db_url: str) -> str:
    build_gold(db_url)
    return db_url


@pytest.fixture
def workspaces(gold_db: str) -> dict[str, int]:
    return build_workspaces(gold_db)


def _enrich(db_url: str) -> None:
    with psycopg.connect(db_url) as conn:
        conn.execute(
            "insert into silver.enrichment_versions (model, model_version, embedding_version,"
            " completed_at) values ('e5', 'c1', 'e1', now())"
        )
        with conn.cursor() as cur:
            cur.executemany(
                "insert into silver.influencer_content_vectors (platform, account_id, model,"
                " model_version, posts_used, content_vector) values (%s, %s, 'e5', 'e1', 5, %s)",
                [(*key, vector) for key, vector in VECTORS.items()],
            )


def test_lookalikes_of_the_workspace_nearest_first(gold_db, workspaces):
    _enrich(gold_db)
    with api(gold_db) as client:
        client.headers.update(bearer(client, workspaces["acme"], "analyst"))
        response = client.get("/v1/influencers/instagram/ig1/similar")
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["model_version"], body["unavailable"]) == ("e1", None)
        assert [(i["account_id"], i["similarity"]) for i in body["items"]] == [
            ("ig2", 0.8),
            ("tt1", 0.6),
            ("ig3", 0.0),
        ]  # tt9, nearest of all, is on another workspace's list
        assert body["items"][0]["username"] == "bob"
        assert body["items"][0]["posts_used"] == 5

        limited = client.get("/v1/influencers/instagram/ig1/similar?limit=1").json()
        assert [i["account_id"] for i in limited["items"]] == ["ig2"]

        # another workspace's influencer is not found; bad limits are refused with a reason
        assert client.get("/v1/influencers/tiktok/tt9/similar").status_code == 404
        for bad in ("0", "101", "x"):
            refused = client.get(f"/v1/influencers/instagram/ig1/similar?limit={bad}")
            assert refused.status_code == 422, bad
            assert "limit" in refused.text

        # tt2 has no content vector: an empty answer that says why
        none = client.get("/v1/influencers/tiktok/tt2/similar").json()
        assert none["items"] == [] and "no content vector" in none["unavailable"]

        client.headers.update(bearer(client, workspaces["rival"], "analyst", "rival"))
        rival = client.get("/v1/influencers/instagram/ig2/similar").json()
        assert [(i["account_id"], i["similarity"]) for i in rival["items"]] == [("tt9", 0.8)]


def test_without_enrichment_the_answer_is_empty_with_its_reason(gold_db, workspaces):
    with api(gold_db) as client:
        client.headers.update(bearer(client, workspaces["acme"], "analyst"))
        body = client.get("/v1/influencers/instagram/ig1/similar").json()
        assert body["items"] == [] and "no enrichment version" in body["unavailable"]


def test_the_route_needs_a_token(gold_db, workspaces):
    with api(gold_db) as client:
        assert client.get("/v1/influencers/instagram/ig1/similar").status_code == 401
