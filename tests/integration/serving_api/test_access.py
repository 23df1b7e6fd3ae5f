"""Who may do what: the authorisation matrix, client credentials, and the admin endpoints."""

from __future__ import annotations

import psycopg
import pytest

from serving_api.workspaces import create_client
from tests.integration.serving_api.gold_fixture import api, bearer, build_gold, build_workspaces

ROLES = ("viewer", "analyst", "admin")

# (method, url, json, minimum role, status for the own workspace's object when allowed)
OWN = "instagram/ig1"  # on acme's list
OTHER = "tiktok/tt9"  # in gold, on rival's list only
ENDPOINTS = [
    ("GET", "/v1/influencers", None, "viewer", 200),
    ("GET", "/v1/influencers/{who}", None, "viewer", 200),
    ("GET", "/v1/influencers/{who}/daily?start=2025-02-01&end=2025-02-10", None, "viewer", 200),
    ("GET", "/v1/influencers/{who}/posts", None, "viewer", 200),
    ("GET", "/v1/influencers/{who}/audience", None, "viewer", 200),
    ("GET", "/v1/influencers/{who}/interests", None, "viewer", 200),
    ("GET", "/v1/influencers/{who}/quality", None, "analyst", 200),
    ("GET", "/v1/brands", None, "viewer", 200),
    ("GET", "/v1/brands/{brand}/fit", None, "analyst", 200),
    ("GET", "/v1/meta/freshness", None, "viewer", 200),
    ("GET", "/v1/admin/workspace", None, "admin", 200),
    ("GET", "/v1/admin/lists", None, "admin", 200),
    ("GET", "/v1/admin/clients", None, "admin", 200),
    ("POST", "/v1/admin/clients", {"name": "ci", "role": "viewer"}, "admin", 201),
    ("DELETE", "/v1/admin/lists/{who}", None, "admin", 204),
    ("POST", "/v1/admin/erasure", {"platform": "instagram", "account_id": "{id}"}, "admin", 202),
    ("POST", "/v1/admin/erasures", {"platform": "instagram", "account_id": "{id}"}, "admin", 202),
]
RANK = {role: n for n, role in enumerate(ROLES)}


@pytest.fixture(scope="module")
def matrix_db(request):
    server_url = request.getfixturevalue("server_url")
    from analisa.core.db import migrate
    from tests.conftest import _create_database, _drop_database

    name, url = _create_database(server_url)
    migrate(url)
    build_gold(url)
    workspace_ids = build_workspaces(url)
    yield url, workspace_ids
    _drop_database(server_url, name)


def _call(client, method, url, body, headers):
    return client.request(method, url, json=body, headers=headers)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("whose", ["own", "other"])
@pytest.mark.parametrize(("method", "template", "body", "minimum", "ok"), ENDPOINTS)
def test_authorisation_matrix(matrix_db, role, whose, method, template, body, minimum, ok):
    """A role below the endpoint's is 403 whatever the object; an allowed role gets the own
    workspace's object and a 404 for another workspace's (never a 403 that shows it exists)."""
    url, workspace_ids = matrix_db
    who = OWN if whose == "own" else OTHER
    brand = "Acme%20Fit" if whose == "own" else "Rival%20Co"
    path = template.format(who=who, brand=brand)
    scoped = "{who}" in template or "{brand}" in template or "{id}" in str(body)
    if body is not None:
        body = {k: v.format(id=who.split("/")[1]) for k, v in body.items()}
    with api(url) as client:
        headers = bearer(client, workspace_ids["acme"], role)
        response = _call(client, method, path, body, headers)
        if method == "DELETE" and response.status_code == 204:  # put it back for the others
            client.put(path, headers=headers)
    if RANK[role] < RANK[minimum]:
        expected = 403
    elif whose == "other" and scoped:
        expected = 404
    else:
        expected = ok
    assert response.status_code == expected, response.text


def test_client_credentials_give_a_token_of_the_clients_workspace_and_role(db_url):
    build_gold(db_url)
    workspace_ids = build_workspaces(db_url)
    with psycopg.connect(db_url) as conn:
        client_id, secret = create_client(conn, workspace_ids["acme"], "analyst", "frontend")
        stored = conn.execute(
            "select secret_hash from ops.api_clients where client_id = %s", (client_id,)
        ).fetchone()[0]
    assert secret not in stored and stored.startswith("scrypt$")

    with api(db_url) as client:
        form = {"grant_type": "client_credentials", "client_id": client_id}
        issued = client.post("/v1/auth/token", data={**form, "client_secret": secret})
        as_json = client.post("/v1/auth/token", json={**form, "client_secret": secret})
        basic = client.post(
            "/v1/auth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
        )
        wrong = client.post("/v1/auth/token", data={**form, "client_secret": secret + "x"})
        unknown = client.post(
            "/v1/auth/token",
            data={**form, "client_id": "cl_0000000000000000", "client_secret": secret},
        )
        grant = client.post("/v1/auth/token", data={**form, "grant_type": "password"})
        token = issued.json()["access_token"]
        quality = client.get(
            "/v1/influencers/tiktok/tt1/quality", headers={"Authorization": f"Bearer {token}"}
        )
        hidden = client.get(
            "/v1/influencers/tiktok/tt9", headers={"Authorization": f"Bearer {token}"}
        )
        admin = bearer(client, workspace_ids["acme"], "admin")
        listed = client.get("/v1/admin/clients", headers=admin).json()["items"]
        other_admin = bearer(client, workspace_ids["rival"], "admin", "rival")
        foreign = client.delete(f"/v1/admin/clients/{client_id}", headers=other_admin)
        revoked = client.delete(f"/v1/admin/clients/{client_id}", headers=admin)
        after = client.post("/v1/auth/token", data={**form, "client_secret": secret})

    assert issued.status_code == as_json.status_code == basic.status_code == 200
    assert issued.json()["token_type"] == "bearer" and issued.json()["expires_in"] == 900
    assert (wrong.status_code, unknown.status_code, grant.status_code) == (401, 401, 400)
    assert wrong.json()["detail"] == unknown.json()["detail"] == "invalid client credentials"
    assert (quality.status_code, hidden.status_code) == (200, 404)
    assert [(c["client_id"], c["role"], c["name"]) for c in listed] == [
        (client_id, "analyst", "frontend")
    ]
    assert "secret" not in str(listed)
    assert (foreign.status_code, revoked.status_code, after.status_code) == (404, 204, 401)


def test_admin_list_changes_show_at_once_through_the_cache(gold_db_redis):
    url, workspace_ids, redis_url, prefix = gold_db_redis
    with api(url, redis_url, prefix) as client:
        admin = bearer(client, workspace_ids["rival"], "admin", "rival")
        before = client.get("/v1/influencers", headers=admin)
        again = client.get("/v1/influencers", headers=admin)
        added = client.put("/v1/admin/lists/instagram/ig1", headers=admin)
        repeated = client.put("/v1/admin/lists/instagram/ig1", headers=admin)
        after = client.get("/v1/influencers", headers=admin)
        bad = client.put("/v1/admin/lists/instagram/a%00b", headers=admin)
    assert [i["account_id"] for i in before.json()["items"]] == ["tt9", "ig2"]
    assert again.headers["x-cache"] == "hit"
    assert (added.json()["changed"], repeated.json()["changed"]) == (True, False)
    assert after.headers["x-cache"] == "miss"
    assert [i["account_id"] for i in after.json()["items"]] == ["tt9", "ig1", "ig2"]
    assert bad.status_code == 422


@pytest.fixture
def gold_db_redis(db_url, redis_url, redis_prefix):
    build_gold(db_url)
    return db_url, build_workspaces(db_url), redis_url, redis_prefix
