"""Response models of the API: the OpenAPI contract the frontend codes against.

Metric formulas are defined once, in dbt (principle 8); the descriptions here restate them for
API users and must follow the dbt model descriptions when those change.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

Platform = Literal["instagram", "tiktok"]
# `engagement` / `followers` rank highest first; the leading `-` reverses (lowest first).
InfluencerSort = Literal["engagement", "-engagement", "followers", "-followers"]

POST_RATE_FORMULA = (
    "(likes + comments + shares) / followers * 100, followers taken from the account snapshot in "
    "force when the post's metrics were captured; 0 when followers is 0; hidden likes are left "
    "out (not counted as zero)"
)


class ErrorDetail(BaseModel):
    detail: str = Field(description="Why the request could not be answered.")


class Influencer(BaseModel):
    # Output platform is a plain string: a platform added to gold must not break responses.
    platform: str = Field(description="Social platform: `instagram` or `tiktok`.")
    account_id: str = Field(
        description="The platform's account id (Instagram user id, TikTok open_id)."
    )
    username: str | None = Field(description="Handle / display name at the latest capture.")
    followers: int | None = Field(description="Followers at the latest capture.")
    posts_count: int | None = Field(description="Posts the platform reports for the account.")
    median_engagement_rate: float | None = Field(
        description=(
            "Median post engagement rate by followers, in percent, over the account's last 30 "
            f"non-deleted posts as of the latest capture. Post rate = {POST_RATE_FORMULA}. "
            "Null when no post is known."
        )
    )
    mean_engagement_rate: float | None = Field(
        description=(
            "Mean post engagement rate by followers, in percent, over the same last 30 "
            f"non-deleted posts. Post rate = {POST_RATE_FORMULA}."
        )
    )
    posts_collected: int | None = Field(description="Posts of the account present in gold.")
    captured_at: datetime | None = Field(
        description="When the latest account snapshot was captured."
    )


class InfluencerPage(BaseModel):
    items: list[Influencer] = Field(description="One page of influencers, in the requested order.")
    total: int = Field(description="Influencers matching the filter, over all pages.")
    limit: int = Field(description="Page size requested.")
    offset: int = Field(description="Position of the first item of this page.")
    next_offset: int | None = Field(description="`offset` of the next page; null on the last page.")


class AudienceSegment(BaseModel):
    segment: str = Field(description="Segment value, e.g. `25-34`, `F`, `BR`, `São Paulo`.")
    share: float | None = Field(description="Share of the audience in this segment, 0-1.")
    followers_in_segment: int | None = Field(
        description="Followers in this segment, as the platform reported them."
    )


class Post(BaseModel):
    post_id: str = Field(description="The platform's media / video id.")
    posted_at: datetime | None = Field(description="When the post was published.")
    media_type: str | None = Field(description="IMAGE, VIDEO, CAROUSEL_ALBUM (Instagram) or VIDEO.")
    likes: int | None = Field(description="Likes; null when the owner hides them (unknown, not 0).")
    comments: int | None = Field(description="Comments.")
    shares: int | None = Field(description="Shares, where the platform reports them.")
    views: int | None = Field(description="Views, where the platform reports them.")
    reach: int | None = Field(description="Accounts reached (Instagram insights), when known.")
    followers_at_capture: int | None = Field(
        description="Account followers in force when the post's metrics were captured."
    )
    engagement_rate_followers: float | None = Field(
        description=f"Engagement rate by followers, in percent: {POST_RATE_FORMULA}."
    )
    engagement_rate_reach: float | None = Field(
        description="(likes + comments + shares) / reach * 100 (Instagram, where reach is known)."
    )
    engagement_rate_views: float | None = Field(
        description="(likes + comments + shares) / views * 100 (TikTok)."
    )
    likes_hidden: bool | None = Field(
        description="True when likes are hidden: the rates are computed on what is known."
    )
    captured_at: datetime | None = Field(description="When these metrics were captured.")


class InfluencerDetail(Influencer):
    audience: dict[str, list[AudienceSegment]] = Field(
        description=(
            "Latest audience demographics by dimension (`age`, `gender`, `age_gender`, "
            "`country`, `city`), each list ordered by share, largest first. Empty when the "
            "platform gives no demographics (TikTok Display API, accounts under 100 followers)."
        )
    )
    recent_posts: list[Post] = Field(
        description="The latest 30 non-deleted posts, newest first, with their engagement rates."
    )
    deleted_posts_count: int = Field(description="Posts of the account flagged as deleted.")


class Health(BaseModel):
    status: Literal["ok", "error"] = Field(
        description="`ok` when the database answers (HTTP 200); `error` otherwise (HTTP 503)."
    )
    database: Literal["ok", "error"] = Field(description="PostgreSQL reachability.")
    cache: Literal["ok", "disabled", "error"] = Field(
        description="Redis: `disabled` when not configured (the API then reads PostgreSQL only)."
    )
    gold: Literal["ready", "not_built", "unknown"] = Field(
        description="Whether the gold layer exists (`not_built` before the first pipeline run)."
    )
    gold_version: int | None = Field(
        description="Gold version counter in Redis (bumped after each gated gold build); "
        "null when Redis is disabled or unreachable."
    )
