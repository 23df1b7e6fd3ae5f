"""API erasure requests carried out by Dagster: the sensor launches carry_out_erasures when a
request waits and no such run is under way; the job erases and records the outcome."""

from __future__ import annotations

import uuid

import dagster as dg
import psycopg

from analisa.core.crypto import subject_pseudonym
from orchestration.defs.privacy.erasures import (
    ACTOR,
    carry_out_erasures,
    erasure_requests,
    pending_requests,
)
from orchestration.lib.resources import AnalisaResource
from tests.conftest import delete_queues
from tests.integration.serving_api.gold_fixture import build_gold, build_workspaces

KEY = "sensor-test-key"


def _request(db_url: str, workspace_id: int, account_id: str) -> int:
    with psycopg.connect(db_url) as conn:
        return conn.execute(
            "insert into ops.erasure_requests (workspace_id, platform, account_id, reason) "
            "values (%s, 'instagram', %s, 'asked by email') returning request_id",
            (workspace_id, account_id),
        ).fetchone()[0]


def _gold_rows(db_url: str, account_id: str) -> int:
    with psycopg.connect(db_url) as conn:
        return conn.execute(
            "select count(*) from gold.dim_influencers where account_id = %s", (account_id,)
        ).fetchone()[0]


def test_the_sensor_launches_the_erasure_job_which_carries_out_the_requests(
    db_url, tmp_path, monkeypatch, redis_prefix
):
    for name, value in {
        "DATABASE_URL": db_url,
        "ANALISA_PSEUDONYM_KEY": KEY,
        "ANALISA_HOME": str(tmp_path),
    }.items():
        monkeypatch.setenv(name, value)
    queue_prefix = f"analisa-test-{uuid.uuid4().hex[:8]}"
    analisa = AnalisaResource(queue_prefix=queue_prefix, redis_prefix=redis_prefix)
    try:
        _erase_through_the_sensor(db_url, analisa)
    finally:
        delete_queues(queue_prefix)


def _erase_through_the_sensor(db_url: str, analisa: AnalisaResource) -> None:
    build_gold(db_url)
    workspaces = build_workspaces(db_url)
    instance = dg.DagsterInstance.ephemeral()

    def evaluate():
        return erasure_requests(dg.build_sensor_context(instance=instance), analisa=analisa)

    idle = evaluate()
    assert isinstance(idle, dg.SkipReason)
    assert idle.skip_message == "no pending erasure request"

    others = _gold_rows(db_url, "ig2")
    assert _gold_rows(db_url, "ig1") == 1 and others == 1
    request_id = _request(db_url, workspaces["acme"], "ig1")
    assert pending_requests(db_url) == 1
    launch = evaluate()
    assert isinstance(launch, dg.RunRequest)
    assert launch.tags["analisa/erasure_requests"] == "1"

    result = carry_out_erasures.execute_in_process(
        instance=instance, resources={"analisa": analisa}
    )
    assert result.success
    assert result.output_for_node("erase_requested_accounts") == {"done": 1, "failed": 0}

    pseudonym = subject_pseudonym("instagram", "ig1", KEY)
    with psycopg.connect(db_url) as conn:
        status, subject, account = conn.execute(
            "select status, subject, account_id from ops.erasure_requests where request_id = %s",
            (request_id,),
        ).fetchone()
        audit = conn.execute(
            "select actor, action, subject, outcome from ops.audit_log order by audit_id"
        ).fetchall()
    assert (status, subject, account) == ("done", pseudonym, None)
    assert audit == [(f"{ACTOR} for workspace acme", "erase", pseudonym, "ok")]
    assert _gold_rows(db_url, "ig1") == 0
    assert _gold_rows(db_url, "ig2") == others
    assert pending_requests(db_url) == 0
    assert evaluate().skip_message == "no pending erasure request"


def test_no_second_run_while_one_is_under_way(db_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", db_url)
    build_gold(db_url)
    workspaces = build_workspaces(db_url)
    _request(db_url, workspaces["acme"], "ig1")
    instance = dg.DagsterInstance.ephemeral()
    instance.create_run_for_job(carry_out_erasures, run_id=uuid.uuid4().hex)  # not started
    result = erasure_requests(dg.build_sensor_context(instance=instance), analisa=AnalisaResource())
    assert isinstance(result, dg.SkipReason)
    assert result.skip_message == "1 pending; a carry_out_erasures run is under way"
