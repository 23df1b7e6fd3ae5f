"""Influencers: the ranked list and one influencer's detail, read from gold and cached."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response

from serving_api.deps import CacheDep, GoldDep
from serving_api.schemas import (
    ErrorDetail,
    Influencer,
    InfluencerDetail,
    InfluencerPage,
    InfluencerSort,
    Platform,
)

router = APIRouter(prefix="/v1/influencers", tags=["influencers"])

_GOLD_503 = {503: {"model": ErrorDetail, "description": "Gold not built yet, or no database."}}


@router.get(
    "",
    response_model=InfluencerPage,
    summary="List influencers",
    responses={**_GOLD_503},
)
def list_influencers(
    request: Request,
    gold: GoldDep,
    cache: CacheDep,
    platform: Annotated[
        Platform | None, Query(description="Only influencers of this platform.")
    ] = None,
    sort: Annotated[
        InfluencerSort,
        Query(
            description=(
                "`engagement`: median engagement rate, highest first; `followers`: most "
                "followers first; a leading `-` reverses the order. Unknown values (null) "
                "always come last; ties are broken by platform, then account id."
            )
        ),
    ] = "engagement",
    limit: Annotated[int, Query(ge=1, le=100, description="Page size, 1-100.")] = 20,
    offset: Annotated[int, Query(ge=0, description="Items to skip.")] = 0,
) -> Response:
    def load() -> InfluencerPage:
        rows, total = gold.list_influencers(
            platform=platform, sort=sort, limit=limit, offset=offset
        )
        return InfluencerPage(
            items=[Influencer.model_validate(row) for row in rows],
            total=total,
            limit=limit,
            offset=offset,
            next_offset=offset + limit if offset + limit < total else None,
        )

    params = {"platform": platform, "sort": sort, "limit": limit, "offset": offset}
    return cache.respond(request.url.path, params, load)


@router.get(
    "/{platform}/{account_id}",
    response_model=InfluencerDetail,
    summary="One influencer with audience and recent posts",
    responses={404: {"model": ErrorDetail, "description": "Unknown influencer."}, **_GOLD_503},
)
def get_influencer(
    request: Request,
    gold: GoldDep,
    cache: CacheDep,
    platform: Annotated[Platform, Path(description="`instagram` or `tiktok`.")],
    account_id: Annotated[str, Path(description="The platform's account id.")],
) -> Response:
    def load() -> InfluencerDetail:
        found = gold.influencer_detail(platform, account_id)
        if found is None:
            raise HTTPException(
                status_code=404, detail=f"influencer {platform}/{account_id} not found in gold"
            )
        return InfluencerDetail.model_validate(found)

    return cache.respond(request.url.path, {}, load)
