"""How fresh gold is."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from serving_api.auth import Viewer
from serving_api.deps import CacheDep, GoldDep
from serving_api.routers.common import LIST_ERRORS
from serving_api.schemas import Freshness

router = APIRouter(prefix="/v1/meta", tags=["meta"])


@router.get(
    "/freshness",
    response_model=Freshness,
    summary="When each gold table was built",
    operation_id="get_freshness",
    responses=LIST_ERRORS,
)
async def get_freshness(
    request: Request, principal: Viewer, gold: GoldDep, cache: CacheDep
) -> Response:
    """Each gold table: when its gate last accepted a build, and the latest capture time of
    the data it holds. The same for every workspace."""
    await cache.check_rate(principal)
    return await cache.respond(
        request, None, request.url.path, {}, lambda: Freshness(tables=gold.freshness())
    )
