"""Influencers of the caller's workspace: search, scorecard, daily series, posts, audience,
interests and quality signals, read from gold and cached until the next gold build."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from analisa.core import catalog
from serving_api.auth import Analyst, Viewer
from serving_api.deps import CacheDep, GoldDep
from serving_api.gold import QUALITY_SIGNALS, SearchFilters
from serving_api.routers.common import (
    READ_ERRORS,
    AccountPath,
    Cursor,
    Limit,
    PlatformPath,
    decode_cursor,
    next_cursor,
)
from serving_api.schemas import (
    Audience,
    DailySeries,
    InfluencerPage,
    InfluencerSort,
    InterestList,
    LookalikeList,
    Platform,
    PostList,
    Quality,
    QualitySignal,
    Scorecard,
)
from serving_api.workspaces import BRAND

router = APIRouter(prefix="/v1/influencers", tags=["influencers"])

MAX_DAYS = 366
AgeBand = Literal[catalog.AGE_BANDS]  # type: ignore[valid-type]
Gender = Literal[catalog.GENDERS]  # type: ignore[valid-type]


def _num(low: float, high: float, description: str):
    return Query(ge=low, le=high, allow_inf_nan=False, description=description)


Share = Annotated[float, _num(0, 1, "Minimum share of the audience, 0-1.")]


@router.get(
    "",
    response_model=InfluencerPage,
    summary="Search the workspace's influencers",
    operation_id="search_influencers",
    responses=READ_ERRORS,
)
async def search_influencers(
    request: Request,
    principal: Viewer,
    gold: GoldDep,
    cache: CacheDep,
    platform: Annotated[Platform | None, Query(description="Only this platform.")] = None,
    q: Annotated[
        str | None,
        Query(min_length=1, max_length=64, pattern=r"^[^\x00]+$", description="Username contains."),
    ] = None,
    followers_min: Annotated[int | None, _num(0, 10**12, "Followers at least.")] = None,
    followers_max: Annotated[int | None, _num(0, 10**12, "Followers at most.")] = None,
    engagement_min: Annotated[float | None, _num(0, 10**6, "Median rate (%) at least.")] = None,
    engagement_max: Annotated[float | None, _num(0, 10**6, "Median rate (%) at most.")] = None,
    growth_min: Annotated[float | None, _num(-100, 10**6, "30-day growth (%) at least.")] = None,
    growth_max: Annotated[float | None, _num(-100, 10**6, "30-day growth (%) at most.")] = None,
    quality_min: Annotated[float | None, _num(0, 100, "Quality score at least.")] = None,
    quality_max: Annotated[float | None, _num(0, 100, "Quality score at most.")] = None,
    sponsored_share_min: Annotated[float | None, _num(0, 1, "Sponsored share at least.")] = None,
    sponsored_share_max: Annotated[float | None, _num(0, 1, "Sponsored share at most.")] = None,
    interest: Annotated[
        str | None,
        Query(pattern=r"^[a-z_]{1,40}$", description="An interest of the taxonomy, e.g. fitness."),
    ] = None,
    interest_min_share: Annotated[float, _num(0, 1, "Minimum share of the interest.")] = 0.0,
    country: Annotated[
        str | None, Query(pattern=r"^[A-Z]{2}$", description="Audience country (ISO 3166-1).")
    ] = None,
    country_min_share: Share = 0.0,
    age: Annotated[AgeBand | None, Query(description="Audience age band.")] = None,
    age_min_share: Share = 0.0,
    gender: Annotated[Gender | None, Query(description="Audience gender: F, M or U.")] = None,
    gender_min_share: Share = 0.0,
    brand: Annotated[
        str | None,
        Query(
            max_length=128,
            pattern=BRAND.pattern,
            description="One of the workspace's brands: "
            "adds fit_score, allows sort=fit and fit_min.",
        ),
    ] = None,
    fit_min: Annotated[float | None, _num(0, 100, "Fit score at least (needs brand).")] = None,
    sort: Annotated[
        InfluencerSort,
        Query(
            description="engagement (median rate), growth (30-day %), followers, quality or fit "
            "(with a brand; without one every fit is null), highest first; a leading `-` "
            "reverses. Unknown values come last; "
            "ties go by platform, then account id."
        ),
    ] = "engagement",
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Response:
    """Influencers on the workspace's lists matching every filter given."""
    audience = [
        (dimension, segment, share)
        for dimension, segment, share in (
            ("country", country, country_min_share),
            ("age", age, age_min_share),
            ("gender", gender, gender_min_share),
        )
        if segment is not None
    ]
    filters = SearchFilters(
        platform=platform,
        q=q,
        followers_min=followers_min,
        followers_max=followers_max,
        engagement_min=engagement_min,
        engagement_max=engagement_max,
        growth_min=growth_min,
        growth_max=growth_max,
        quality_min=quality_min,
        quality_max=quality_max,
        sponsored_share_min=sponsored_share_min,
        sponsored_share_max=sponsored_share_max,
        interest=interest,
        interest_min_share=interest_min_share,
        audience=audience,
        brand=brand,
        fit_min=fit_min,
    )
    params = dict(vars(filters), sort=sort, limit=limit)
    params["audience"] = [f"{d}:{s}:{m}" for d, s, m in audience]
    offset = decode_cursor(cursor, params)

    def load() -> InfluencerPage:
        rows, total = gold.search(
            principal.workspace_id, filters, sort=sort, limit=limit, offset=offset
        )
        return InfluencerPage(
            items=rows,
            total=total,
            limit=limit,
            next_cursor=next_cursor(offset, limit, total, params),
        )

    return await cache.respond(request, principal, request.url.path, {**params, "o": offset}, load)


@router.get(
    "/{platform}/{account_id}",
    response_model=Scorecard,
    summary="An influencer's scorecard",
    operation_id="get_scorecard",
    responses=READ_ERRORS,
)
async def get_scorecard(
    request: Request,
    principal: Viewer,
    gold: GoldDep,
    cache: CacheDep,
    platform: PlatformPath,
    account_id: AccountPath,
) -> Response:
    """Followers, engagement, growth, sponsored share, quality score, top interests and the
    largest audience segments, in one answer."""
    return await cache.respond(
        request,
        principal,
        request.url.path,
        {},
        lambda: Scorecard.model_validate(
            gold.scorecard(principal.workspace_id, platform, account_id)
        ),
    )


@router.get(
    "/{platform}/{account_id}/daily",
    response_model=DailySeries,
    summary="An influencer's daily series",
    operation_id="get_daily_series",
    responses=READ_ERRORS,
)
async def get_daily_series(
    request: Request,
    principal: Viewer,
    gold: GoldDep,
    cache: CacheDep,
    platform: PlatformPath,
    account_id: AccountPath,
    start: Annotated[date | None, Query(description="First day (default: end - 90 days).")] = None,
    end: Annotated[date | None, Query(description="Last day (default: today, UTC).")] = None,
) -> Response:
    """Followers, posts published, growth over 7/30/90 days and the 30-day median rate for
    each day with a capture (gold.fct_influencer_daily), at most 366 days per answer: a
    longer range is cut to its last 366 days (`start` in the answer says so)."""
    today_dependent = end is None  # not the same answer tomorrow: no fast-path entry
    end = end or date.today()
    start = start or end - timedelta(days=90)
    # At most MAX_DAYS per answer: a longer range is cut to its last MAX_DAYS days (the answer
    # says which start it used); start after end is an empty range.
    start = max(start, end - timedelta(days=MAX_DAYS - 1))

    def load() -> DailySeries:
        days = gold.daily(principal.workspace_id, platform, account_id, start, end)
        return DailySeries(
            platform=platform, account_id=account_id, start=start, end=end, days=days
        )

    params = {"start": start.isoformat(), "end": end.isoformat()}
    return await cache.respond(
        request, principal, request.url.path, params, load, fast=not today_dependent
    )


@router.get(
    "/{platform}/{account_id}/posts",
    response_model=PostList,
    summary="An influencer's top or recent posts",
    operation_id="list_posts",
    responses=READ_ERRORS,
)
async def list_posts(
    request: Request,
    principal: Viewer,
    gold: GoldDep,
    cache: CacheDep,
    platform: PlatformPath,
    account_id: AccountPath,
    order: Annotated[
        Literal["recent", "top"],
        Query(description="recent: newest first; top: highest engagement rate by followers."),
    ] = "recent",
    sponsored: Annotated[
        bool | None, Query(description="true: only sponsored posts; false: only organic.")
    ] = None,
    limit: Limit = 20,
) -> Response:
    """Non-deleted posts with caption, permalink, sponsored flag and engagement rates."""

    def load() -> PostList:
        items = gold.posts(
            principal.workspace_id,
            platform,
            account_id,
            order=order,
            sponsored=sponsored,
            limit=limit,
        )
        return PostList(platform=platform, account_id=account_id, order=order, items=items)

    params = {"order": order, "sponsored": sponsored, "limit": limit}
    return await cache.respond(request, principal, request.url.path, params, load)


@router.get(
    "/{platform}/{account_id}/audience",
    response_model=Audience,
    summary="An influencer's audience",
    operation_id="get_audience",
    responses=READ_ERRORS,
)
async def get_audience(
    request: Request,
    principal: Viewer,
    gold: GoldDep,
    cache: CacheDep,
    platform: PlatformPath,
    account_id: AccountPath,
) -> Response:
    """The latest audience demographics, by dimension."""

    def load() -> Audience:
        found = gold.audience(principal.workspace_id, platform, account_id)
        return Audience(platform=platform, account_id=account_id, **found)

    return await cache.respond(request, principal, request.url.path, {}, load)


@router.get(
    "/{platform}/{account_id}/interests",
    response_model=InterestList,
    summary="An influencer's interests",
    operation_id="list_interests",
    responses=READ_ERRORS,
)
async def list_interests(
    request: Request,
    principal: Viewer,
    gold: GoldDep,
    cache: CacheDep,
    platform: PlatformPath,
    account_id: AccountPath,
) -> Response:
    """Interests inferred from the posts' words and hashtags, largest share first."""

    def load() -> InterestList:
        items = gold.interests(principal.workspace_id, platform, account_id)
        return InterestList(platform=platform, account_id=account_id, items=items)

    return await cache.respond(request, principal, request.url.path, {}, load)


@router.get(
    "/{platform}/{account_id}/quality",
    response_model=Quality,
    summary="An influencer's quality signals (analyst, admin)",
    operation_id="get_quality",
    responses=READ_ERRORS,
)
async def get_quality(
    request: Request,
    principal: Analyst,
    gold: GoldDep,
    cache: CacheDep,
    platform: PlatformPath,
    account_id: AccountPath,
) -> Response:
    """Each signal with its value, threshold and flag, and the 0-100 score combining them.
    Viewers get 403: the signals need an analyst's reading."""

    def load() -> Quality:
        row = gold.quality(principal.workspace_id, platform, account_id)
        return Quality(
            platform=platform,
            account_id=account_id,
            quality_score=row.get("quality_score"),
            tier=row.get("tier") if isinstance(row.get("tier"), str) else None,
            insufficient_data=row.get("insufficient_data"),
            insufficient_reason=row.get("insufficient_reason")
            or row.get("insufficient_data_reason"),
            signals=[_signal(name, row) for name in QUALITY_SIGNALS if _has(name, row)],
        )

    return await cache.respond(request, principal, request.url.path, {}, load)


def _has(name: str, row: dict) -> bool:
    return any(key == name or key.startswith(name + "_") for key in row)


def _pick(row: dict, *keys: str):
    return next((row[k] for k in keys if k in row), None)


def _number(value):
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _signal(name: str, row: dict) -> QualitySignal:
    value = _pick(row, f"{name}_value", name)
    flagged = _pick(row, f"{name}_flag", f"{name}_flagged", f"is_{name}")
    return QualitySignal(
        name=name,
        value=_number(value),
        threshold=_number(_pick(row, f"{name}_threshold")),
        flagged=flagged if isinstance(flagged, bool) else None,
        null_reason=reason
        if isinstance(reason := _pick(row, f"{name}_null_reason"), str)
        else None,
    )


@router.get(
    "/{platform}/{account_id}/similar",
    response_model=LookalikeList,
    summary="Creators who post like this one",
    operation_id="list_similar_influencers",
    responses=READ_ERRORS,
)
async def list_similar(
    request: Request,
    principal: Viewer,
    gold: GoldDep,
    cache: CacheDep,
    platform: PlatformPath,
    account_id: AccountPath,
    limit: Annotated[int, Query(ge=1, le=100, description="How many creators.")] = 10,
) -> Response:
    """The workspace's creators whose recent captions are nearest in meaning to this one's
    (the AI enrichment's content vectors, cosine similarity), nearest first."""

    def load() -> LookalikeList:
        found = gold.similar(principal.workspace_id, platform, account_id, limit)
        return LookalikeList(platform=platform, account_id=account_id, **found)

    return await cache.respond(request, principal, request.url.path, {"limit": limit}, load)
