"""Erasure requests made through the API (POST /v1/admin/erasures), carried out here.

The API's database role may only insert a request and read its status: it never holds the
privileges an erasure needs (every schema, tokens, bronze). Dagster's `carry_out_erasures`
job (launched by its sensor) or `analisa erase --pending` claims each pending request with
SKIP LOCKED, so two runs never carry out the same one, erases, and records the outcome on the
request, which then keeps the pseudonym only.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg.types.json import Jsonb

from analisa.core.settings import Settings
from privacy.erase import ErasureReport, Services, erase


@dataclass
class RequestDone:
    request_id: int
    status: str
    report: ErasureReport | None


def _claim(db_url: str) -> tuple[int, str, str, str | None] | None:
    with psycopg.connect(db_url) as conn, conn.transaction():
        row = conn.execute(
            "select r.request_id, r.platform, r.account_id, w.name from ops.erasure_requests r "
            "left join ops.workspaces w using (workspace_id) "
            "where r.status in ('pending', 'running') and r.account_id is not null "
            "order by r.request_id limit 1 for update of r skip locked"
        ).fetchone()
        if row is None:
            return None
        conn.execute(
            "update ops.erasure_requests set status = 'running' where request_id = %s", (row[0],)
        )
    return row


def run_pending(
    settings: Settings,
    db_url: str,
    *,
    actor: str,
    services: Services | None = None,
    limit: int = 100,
) -> list[RequestDone]:
    done: list[RequestDone] = []
    for _ in range(limit):
        claimed = _claim(db_url)
        if claimed is None:
            break
        request_id, platform, account_id, workspace = claimed
        who = f"{actor} for workspace {workspace}" if workspace else actor
        try:
            report = erase(
                settings,
                db_url,
                platform,
                account_id,
                actor=who,
                services=services,
                request_id=request_id,
            )
        except Exception as exc:
            _finish(db_url, request_id, "failed", None, f"{type(exc).__name__}")
            done.append(RequestDone(request_id, "failed", None))
            continue
        status = "done" if report.clean else "failed"
        error = None if report.clean else "traces remained after erasure; run it again"
        _finish(db_url, request_id, status, report, error)
        done.append(RequestDone(request_id, status, report))
    return done


def _finish(
    db_url: str, request_id: int, status: str, report: ErasureReport | None, error: str | None
) -> None:
    outcome = None
    if report is not None:
        outcome = {
            "rows_deleted": report.rows_deleted,
            "rows_scrubbed": report.rows_scrubbed,
            "remaining_rows": sum(report.remaining_rows.values()),
            "token": report.token,
        }
    with psycopg.connect(db_url) as conn, conn.transaction():
        conn.execute(
            "update ops.erasure_requests set status = %s, outcome = %s, error = %s, "
            "subject = coalesce(subject, %s), "
            "done_at = case when %s = 'done' then now() else done_at end "
            "where request_id = %s",
            (
                status,
                Jsonb(outcome) if outcome is not None else None,
                error,
                report.subject if report else None,
                status,
                request_id,
            ),
        )
