"""The workspace's brands and their fit rankings (gold.brand_influencer_fit)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from serving_api.auth import Analyst, Viewer
from serving_api.deps import CacheDep, GoldDep
from serving_api.routers.common import (
    LIST_ERRORS,
    READ_ERRORS,
    Cursor,
    Limit,
    decode_cursor,
    next_cursor,
)
from serving_api.schemas import BrandList, FitPage, FitRow, Platform
from serving_api.workspaces import BRAND

router = APIRouter(prefix="/v1/brands", tags=["brands"])

_KNOWN = {
    "platform",
    "account_id",
    "username",
    "fit_score",
    "fit_confidence",
    "brand",
    "brand_name",
    "brand_id",
    "workspace_id",
    "workspace",
    "built_at",
}


@router.get(
    "",
    response_model=BrandList,
    summary="The workspace's brands",
    operation_id="list_brands",
    responses=LIST_ERRORS,
)
async def list_brands(
    request: Request, principal: Viewer, gold: GoldDep, cache: CacheDep
) -> Response:
    return await cache.respond(
        request,
        principal,
        request.url.path,
        {},
        lambda: BrandList(items=gold.brands(principal.workspace_id)),
    )


@router.get(
    "/{brand}/fit",
    response_model=FitPage,
    summary="Influencers ranked by fit for a brand (analyst, admin)",
    operation_id="rank_brand_fit",
    responses=READ_ERRORS,
)
async def rank_brand_fit(
    request: Request,
    principal: Analyst,
    gold: GoldDep,
    cache: CacheDep,
    brand: Annotated[
        str,
        Path(max_length=128, pattern=BRAND.pattern, description="One of the workspace's brands."),
    ],
    platform: Annotated[Platform | None, Query(description="Only this platform.")] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Response:
    """The workspace's influencers by fit_score (0-100), highest first, each with the
    components behind the score (null where the data is unavailable). Another workspace's
    brand is a 404."""
    params = {"brand": brand, "platform": platform, "limit": limit}
    offset = decode_cursor(cursor, params)

    def load() -> FitPage:
        rows, total = gold.fit(
            principal.workspace_id, brand, platform=platform, limit=limit, offset=offset
        )
        items = [
            FitRow(
                **{
                    k: row.get(k)
                    for k in ("platform", "account_id", "username", "fit_score", "fit_confidence")
                },
                components={
                    k: v
                    for k, v in row.items()
                    if k not in _KNOWN and (v is None or isinstance(v, int | float | bool | str))
                },
            )
            for row in rows
        ]
        return FitPage(
            brand=brand,
            items=items,
            total=total,
            limit=limit,
            next_cursor=next_cursor(offset, limit, total, params),
        )

    return await cache.respond(request, principal, request.url.path, {**params, "o": offset}, load)
