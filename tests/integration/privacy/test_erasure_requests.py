"""Erasure requested through the API, carried out by `analisa erase --pending`."""

from __future__ import annotations

import psycopg

from analisa.core.crypto import subject_pseudonym
from analisa.core.settings import Settings
from privacy.erase import Services
from privacy.requests import run_pending
from tests.integration.serving_api.gold_fixture import api, bearer, build_gold, build_workspaces

KEY = "request-test-key"


def test_admin_requests_erasure_and_the_pipeline_carries_it_out(db_url):
    build_gold(db_url)
    workspaces = build_workspaces(db_url)
    body = {"platform": "instagram", "account_id": "ig1", "reason": "asked by Ig One by email"}
    with api(db_url, ANALISA_PSEUDONYM_KEY=KEY) as client:
        viewer = bearer(client, workspaces["acme"], "viewer")
        refused = client.post("/v1/admin/erasures", json=body, headers=viewer)
        assert refused.status_code == 403
        assert "admin" in refused.json()["detail"]

        admin = bearer(client, workspaces["acme"], "admin")
        bad = client.post("/v1/admin/erasures", json={**body, "account_id": ""}, headers=admin)
        assert bad.status_code == 422
        accepted = client.post("/v1/admin/erasures", json=body, headers=admin)
        assert accepted.status_code == 202, accepted.text
        request_id = accepted.json()["request_id"]
        assert accepted.json()["status_url"] == f"/v1/admin/erasures/{request_id}"
        status = client.get(f"/v1/admin/erasures/{request_id}", headers=admin).json()
        assert status["status"] == "pending"
        # another workspace does not see it
        rival = bearer(client, workspaces["rival"], "admin", workspace="rival")
        assert client.get(f"/v1/admin/erasures/{request_id}", headers=rival).status_code == 404

        done = run_pending(
            Settings(ANALISA_PSEUDONYM_KEY=KEY),
            db_url,
            actor="os:operator",
            services=Services(),
        )
        assert [(d.request_id, d.status) for d in done] == [(request_id, "done")]
        status = client.get(f"/v1/admin/erasures/{request_id}", headers=admin).json()
    pseudonym = subject_pseudonym("instagram", "ig1", KEY)
    assert status["status"] == "done"
    assert status["subject"] == pseudonym
    assert status["outcome"]["rows_deleted"] > 0 and status["outcome"]["remaining_rows"] == 0
    with psycopg.connect(db_url) as conn:
        request = conn.execute(
            "select account_id, reason from ops.erasure_requests where request_id = %s",
            (request_id,),
        ).fetchone()
        assert request == (None, "")
        audit = conn.execute(
            "select actor, action, subject, outcome from ops.audit_log order by audit_id"
        ).fetchall()
        assert (
            conn.execute(
                "select count(*) from gold.dim_influencers where account_id = 'ig1'"
            ).fetchone()[0]
            == 0
        )
        assert (
            conn.execute(
                "select count(*) from gold.dim_influencers where account_id <> 'ig1'"
            ).fetchone()[0]
            > 0
        )
    assert audit == [
        ("api:test:acme:admin", "erase_requested", pseudonym, "ok"),
        ("os:operator for workspace acme", "erase", pseudonym, "ok"),
    ]
    # nothing pending any more
    assert run_pending(Settings(ANALISA_PSEUDONYM_KEY=KEY), db_url, actor="os:operator") == []
