"""Admin endpoints: the workspace's own lists, API clients and erasure requests.

Admin only (403 for viewers and analysts), and scoped to the token's workspace: another
workspace's client or list entry is a 404 like anything that does not exist.

Erasure is requested here and carried out by the pipeline (Dagster's `carry_out_erasures`
job, launched by a sensor, or `analisa erase --pending`): the
API's database role reads gold and inserts requests, and is never given what an erasure needs
(delete on bronze, silver, tokens; the broker; the export store). A request answers 202 with
its id; GET /v1/admin/erasures/{id} shows its status, then the outcome.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response
from psycopg.types.json import Jsonb
from starlette.concurrency import run_in_threadpool

from analisa.core.crypto import subject_pseudonym
from serving_api.auth import Admin
from serving_api.deps import CacheDep, GoldDep, SettingsDep
from serving_api.problems import ApiProblem, documented
from serving_api.routers.common import (
    AccountPath,
    Cursor,
    Limit,
    PlatformPath,
    decode_cursor,
    next_cursor,
)
from serving_api.schemas import (
    ClientInfo,
    ClientList,
    CreatedClient,
    ErasureAccepted,
    ErasureRequest,
    ErasureStatus,
    ListChange,
    ListEntry,
    ListPage,
    NewClient,
    WorkspaceInfo,
)
from serving_api.workspaces import add_influencer, create_client, remove_influencer

router = APIRouter(prefix="/v1/admin", tags=["admin"])

ERRORS = documented(400, 401, 403, 404, 422, 429, 503)
ERRORS_404 = ERRORS
ClientPath = Annotated[str, Path(pattern=r"^cl_[a-f0-9]{16}$", description="The client id.")]


@router.get(
    "/workspace",
    response_model=WorkspaceInfo,
    summary="The token's workspace",
    operation_id="get_workspace",
    responses=ERRORS,
)
async def get_workspace(principal: Admin, gold: GoldDep, cache: CacheDep) -> WorkspaceInfo:
    await cache.check_rate(principal)

    def load() -> WorkspaceInfo:
        with gold.reading() as conn:
            row = conn.execute(
                "select w.name,"
                " (select count(*) from ops.workspace_influencers i"
                "   where i.workspace_id = w.workspace_id) as influencers,"
                " (select count(*) from ops.brands b"
                "   where b.workspace_id = w.workspace_id) as brands,"
                " (select count(*) from ops.api_clients c where c.workspace_id = w.workspace_id"
                "   and c.revoked_at is null) as clients"
                " from ops.workspaces w where w.workspace_id = %s",
                (principal.workspace_id,),
            ).fetchone()
        if row is None:
            raise ApiProblem(404, "Not Found", "workspace not found")
        return WorkspaceInfo.model_validate(row)

    return await run_in_threadpool(load)


@router.get(
    "/lists",
    response_model=ListPage,
    summary="Influencers on the workspace's list",
    operation_id="list_workspace_influencers",
    responses=ERRORS,
)
async def list_workspace_influencers(
    principal: Admin, gold: GoldDep, cache: CacheDep, limit: Limit = 50, cursor: Cursor = None
) -> ListPage:
    await cache.check_rate(principal)
    params = {"limit": limit}
    offset = decode_cursor(cursor, params)

    def load() -> ListPage:
        with gold.reading() as conn:
            rows = conn.execute(
                "select platform, account_id, added_at, count(*) over () as total"
                " from ops.workspace_influencers where workspace_id = %s"
                " order by platform, account_id limit %s offset %s",
                (principal.workspace_id, limit, offset),
            ).fetchall()
        total = rows[0]["total"] if rows else 0
        return ListPage(
            items=[ListEntry.model_validate(r) for r in rows],
            next_cursor=next_cursor(offset, limit, total, params),
        )

    return await run_in_threadpool(load)


@router.put(
    "/lists/{platform}/{account_id}",
    response_model=ListChange,
    summary="Put an influencer on the list",
    operation_id="add_to_list",
    responses=ERRORS,
)
async def add_to_list(
    principal: Admin,
    gold: GoldDep,
    cache: CacheDep,
    platform: PlatformPath,
    account_id: AccountPath,
) -> ListChange:
    await cache.check_rate(principal)

    def change() -> bool:
        with gold.writing() as conn:
            return add_influencer(conn, principal.workspace_id, platform, account_id)

    changed = await run_in_threadpool(change)
    if changed:
        await cache.bump_workspace(principal.workspace_id)
    return ListChange(platform=platform, account_id=account_id, on_list=True, changed=changed)


@router.delete(
    "/lists/{platform}/{account_id}",
    status_code=204,
    summary="Take an influencer off the list",
    operation_id="remove_from_list",
    responses=ERRORS_404,
)
async def remove_from_list(
    principal: Admin,
    gold: GoldDep,
    cache: CacheDep,
    platform: PlatformPath,
    account_id: AccountPath,
) -> Response:
    await cache.check_rate(principal)

    def change() -> bool:
        with gold.writing() as conn:
            return remove_influencer(conn, principal.workspace_id, platform, account_id)

    if not await run_in_threadpool(change):
        raise ApiProblem(404, "Not Found", f"{platform}/{account_id} is not on the list")
    await cache.bump_workspace(principal.workspace_id)
    return Response(status_code=204)


@router.get(
    "/clients",
    response_model=ClientList,
    summary="The workspace's API clients",
    operation_id="list_clients",
    responses=ERRORS,
)
async def list_clients(principal: Admin, gold: GoldDep, cache: CacheDep) -> ClientList:
    await cache.check_rate(principal)

    def load() -> ClientList:
        with gold.reading() as conn:
            rows = conn.execute(
                "select client_id, name, role, created_at, revoked_at from ops.api_clients"
                " where workspace_id = %s order by created_at, client_id",
                (principal.workspace_id,),
            ).fetchall()
        return ClientList(items=[ClientInfo.model_validate(r) for r in rows])

    return await run_in_threadpool(load)


@router.post(
    "/clients",
    response_model=CreatedClient,
    status_code=201,
    summary="Create an API client",
    operation_id="create_client",
    responses=ERRORS,
)
async def create_api_client(
    body: NewClient, principal: Admin, gold: GoldDep, cache: CacheDep
) -> CreatedClient:
    """The secret is in this answer only; store it now."""
    await cache.check_rate(principal)

    def create() -> tuple[str, str]:
        with gold.writing() as conn:
            return create_client(conn, principal.workspace_id, body.role, body.name)

    client_id, secret = await run_in_threadpool(create)
    return CreatedClient(client_id=client_id, client_secret=secret, role=body.role)


@router.delete(
    "/clients/{client_id}",
    status_code=204,
    summary="Revoke an API client",
    operation_id="revoke_client",
    responses=ERRORS_404,
)
async def revoke_client(
    principal: Admin, gold: GoldDep, cache: CacheDep, client_id: ClientPath
) -> Response:
    """It gets no new token; tokens it holds expire within ANALISA_API_TOKEN_TTL."""
    await cache.check_rate(principal)

    def revoke() -> int:
        with gold.writing() as conn:
            return conn.execute(
                "update ops.api_clients set revoked_at = now() where client_id = %s"
                " and workspace_id = %s and revoked_at is null",
                (client_id, principal.workspace_id),
            ).rowcount

    if not await run_in_threadpool(revoke):
        raise ApiProblem(404, "Not Found", f"client {client_id} not found")
    return Response(status_code=204)


@router.post(
    "/erasures",
    response_model=ErasureAccepted,
    status_code=202,
    summary="Request the erasure of an influencer's data",
    operation_id="request_erasure",
    responses=ERRORS_404,
)
async def request_erasure(
    body: ErasureRequest,
    principal: Admin,
    gold: GoldDep,
    cache: CacheDep,
    settings: SettingsDep,
) -> ErasureAccepted:
    """Recorded for the pipeline to carry out (principle 7); only for influencers on the
    workspace's list. Audited under the account's pseudonym and the calling client."""
    await cache.check_rate(principal)
    subject = subject_pseudonym(
        body.platform, body.account_id, settings.pseudonym_key.get_secret_value()
    )
    actor = f"api:{principal.subject}"

    def record() -> int | None:
        with gold.writing() as conn:
            listed = conn.execute(
                "select 1 from ops.workspace_influencers"
                " where workspace_id = %s and platform = %s and account_id = %s",
                (principal.workspace_id, body.platform, body.account_id),
            ).fetchone()
            if listed is None:
                return None
            request_id = conn.execute(
                "insert into ops.erasure_requests"
                " (workspace_id, platform, account_id, reason, subject, requested_by)"
                " values (%s, %s, %s, %s, %s, %s) returning request_id",
                (
                    principal.workspace_id,
                    body.platform,
                    body.account_id,
                    body.reason,
                    subject,
                    actor,
                ),
            ).fetchone()["request_id"]
            conn.execute(
                "insert into ops.audit_log (actor, action, subject, outcome, details)"
                " values (%s, 'erase_requested', %s, 'ok', %s)",
                (
                    actor,
                    subject,
                    Jsonb({"platform": body.platform, "request_id": request_id}),
                ),
            )
            return request_id

    request_id = await run_in_threadpool(record)
    if request_id is None:
        raise ApiProblem(404, "Not Found", f"{body.platform}/{body.account_id} is not on the list")
    return ErasureAccepted(
        request_id=request_id, status_url=f"{router.prefix}/erasures/{request_id}"
    )


# The first name of the endpoint, kept for clients written against it.
router.add_api_route(
    "/erasure",
    request_erasure,
    methods=["POST"],
    response_model=ErasureAccepted,
    status_code=202,
    summary="Request the erasure of an influencer's data (same as POST /erasures)",
    operation_id="request_erasure_legacy",
    responses=ERRORS_404,
    deprecated=True,
)


@router.get(
    "/erasures/{request_id}",
    response_model=ErasureStatus,
    summary="The status of an erasure request",
    operation_id="get_erasure",
    responses=ERRORS_404,
)
async def get_erasure(
    principal: Admin,
    gold: GoldDep,
    cache: CacheDep,
    request_id: Annotated[int, Path(ge=1, le=2**63 - 1, description="The request id.")],
) -> ErasureStatus:
    await cache.check_rate(principal)

    def load() -> ErasureStatus | None:
        with gold.reading() as conn:
            row = conn.execute(
                "select request_id, platform, status, requested_at, done_at, subject, outcome,"
                " error from ops.erasure_requests where request_id = %s and workspace_id = %s",
                (request_id, principal.workspace_id),
            ).fetchone()
        return ErasureStatus.model_validate(row) if row else None

    found = await run_in_threadpool(load)
    if found is None:
        raise ApiProblem(404, "Not Found", f"erasure request {request_id} not found")
    return found
