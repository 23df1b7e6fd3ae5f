"""Response models of the API: the OpenAPI contract the frontend codes against.

Metric formulas are defined once, in dbt (principle 8); the descriptions here restate them for
API users and must follow the dbt model descriptions when those change. Values gold does not
have (a public creator's reach, a short history's growth) are null, never zero.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Platform = Literal["instagram", "tiktok"]
InfluencerSort = Literal[
    "engagement",
    "-engagement",
    "growth",
    "-growth",
    "followers",
    "-followers",
    "quality",
    "-quality",
    "fit",
    "-fit",
]

POST_RATE_FORMULA = (
    "(likes + comments + shares) / followers * 100, followers taken from the account snapshot in "
    "force when the post's metrics were captured; 0 when followers is 0; hidden likes are left "
    "out (not counted as zero)"
)
ENGAGEMENT = (
    "Median post engagement rate by followers, in percent, over the account's last 30 "
    f"non-deleted posts as of the latest capture. Post rate = {POST_RATE_FORMULA}."
)
GROWTH_30D = (
    "Follower change against the last capture at or before the same time 30 days earlier "
    "(absolute); null when there is none."
)


class Example(BaseModel):
    """Base: tolerant of the extra columns gold gains (ignored until the contract names them)."""

    model_config = ConfigDict(extra="ignore")


class InfluencerSummary(Example):
    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "examples": [
                {
                    "platform": "instagram",
                    "account_id": "17841400000000001",
                    "username": "ana.fit",
                    "followers": 12000,
                    "median_engagement_rate": 4.25,
                    "mean_engagement_rate": 4.8,
                    "followers_growth_30d": 900,
                    "followers_growth_30d_pct": 8.1,
                    "sponsored_share": 0.2,
                    "quality_score": 86.0,
                    "fit_score": None,
                    "captured_at": "2026-10-03T10:00:00Z",
                }
            ]
        },
    )
    platform: str = Field(description="Social platform: `instagram` or `tiktok`.")
    account_id: str = Field(description="The platform's account id.")
    username: str | None = Field(None, description="Handle at the latest capture.")
    followers: int | None = Field(None, description="Followers, the last value known.")
    median_engagement_rate: float | None = Field(None, description=ENGAGEMENT)
    mean_engagement_rate: float | None = Field(
        None, description="Mean post engagement rate by followers over the same 30 posts."
    )
    followers_growth_30d: int | None = Field(None, description=GROWTH_30D)
    followers_growth_30d_pct: float | None = Field(
        None, description="The same change in percent of the earlier followers."
    )
    sponsored_share: float | None = Field(
        None, description="Share (0-1) of the non-deleted posts carrying a disclosure marker."
    )
    quality_score: float | None = Field(
        None, description="0-100 combination of the quality signals; null: insufficient data."
    )
    fit_score: float | None = Field(
        None, description="0-100 fit with the `brand` of the query; null without one."
    )
    captured_at: datetime | None = Field(None, description="Latest account snapshot.")


class InfluencerPage(BaseModel):
    items: list[InfluencerSummary] = Field(description="One page, in the requested order.")
    total: int = Field(description="Influencers matching the filters, over all pages.")
    limit: int = Field(description="Page size requested.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


class Interest(BaseModel):
    interest: str = Field(description="Interest from the taxonomy, e.g. `fitness`.")
    posts_with_interest: int | None = Field(None, description="Posts matching it.")
    share: float | None = Field(
        None, description="posts_with_interest / the account's non-deleted posts with any interest."
    )


class TopSegment(BaseModel):
    segment: str
    share: float | None = None


class Scorecard(Example):
    platform: str
    account_id: str
    username: str | None = None
    followers: int | None = None
    followers_captured_at: datetime | None = None
    following: int | None = None
    posts_count: int | None = Field(None, description="Posts the platform reports.")
    median_engagement_rate: float | None = Field(None, description=ENGAGEMENT)
    mean_engagement_rate: float | None = None
    posts_in_engagement_window: int | None = None
    posts_collected: int | None = None
    posts_deleted: int | None = None
    followers_growth_7d: int | None = None
    followers_growth_7d_pct: float | None = None
    followers_growth_30d: int | None = Field(None, description=GROWTH_30D)
    followers_growth_30d_pct: float | None = None
    followers_growth_90d: int | None = None
    followers_growth_90d_pct: float | None = None
    sponsored_share: float | None = None
    sponsored_engagement_ratio: float | None = Field(
        None, description="Median rate of sponsored ÷ of organic posts; null if either is empty."
    )
    audience_coverage: float | None = None
    quality_score: float | None = None
    quality_insufficient_data: bool | str | None = None
    top_interests: list[Interest] = Field(description="Up to 3 interests, largest share first.")
    top_audience: dict[str, TopSegment] = Field(
        description="The largest segment of each audience dimension (latest capture)."
    )
    captured_at: datetime | None = None


class DailyPoint(Example):
    day: date
    followers: int | None = None
    following: int | None = None
    posts_published: int | None = None
    followers_growth_7d: int | None = None
    followers_growth_7d_pct: float | None = None
    followers_growth_30d: int | None = None
    followers_growth_30d_pct: float | None = None
    followers_growth_90d: int | None = None
    followers_growth_90d_pct: float | None = None
    median_engagement_rate_30d: float | None = Field(
        None, description="Median rate of the posts published in the 30 days up to that day."
    )


class DailySeries(BaseModel):
    platform: str
    account_id: str
    start: date
    end: date
    days: list[DailyPoint] = Field(description="Days with a capture, oldest first.")


class Post(Example):
    post_id: str = Field(description="The platform's media / video id.")
    posted_at: datetime | None = None
    media_type: str | None = None
    caption: str | None = None
    permalink: str | None = Field(None, description="Link to the post; null when not captured.")
    likes: int | None = Field(None, description="Likes; null when hidden (unknown, not 0).")
    comments: int | None = None
    shares: int | None = None
    views: int | None = None
    reach: int | None = None
    followers_at_capture: int | None = None
    engagement_rate_followers: float | None = Field(None, description=POST_RATE_FORMULA)
    engagement_rate_reach: float | None = None
    engagement_rate_views: float | None = None
    likes_hidden: bool | None = None
    is_sponsored: bool | None = None
    sponsored_marker: str | None = Field(None, description="The disclosure marker found.")
    captured_at: datetime | None = None


class PostList(BaseModel):
    platform: str
    account_id: str
    order: Literal["recent", "top"]
    items: list[Post]


class AudienceSegment(BaseModel):
    segment: str = Field(description="Segment value, e.g. `25-34`, `F`, `BR`, `São Paulo`.")
    share: float | None = Field(None, description="Share of the audience, 0-1.")
    followers_in_segment: int | None = None


class Audience(BaseModel):
    platform: str
    account_id: str
    dimensions: dict[str, list[AudienceSegment]] = Field(
        description="age, gender, age_gender, country, city; each largest share first. Empty "
        "when the platform gives no demographics (public creators, TikTok Display API)."
    )
    captured_at: dict[str, datetime | None] = Field(description="Capture of each dimension.")


class InterestList(BaseModel):
    platform: str
    account_id: str
    items: list[Interest]


class Lookalike(BaseModel):
    platform: str
    account_id: str
    username: str | None = None
    similarity: float = Field(
        description="Cosine similarity of the two creators' content vectors (the mean "
        "embedding of their 30 latest live captions less the centre of all creators, "
        "normalised), -1 to 1; 1 = the same."
    )
    posts_used: int = Field(description="Captions averaged into this creator's content vector.")


class LookalikeList(BaseModel):
    platform: str
    account_id: str
    model_version: str | None = Field(
        None, description="The embedding model version the vectors come from."
    )
    unavailable: str | None = Field(
        None, description="Why there is no answer (enrichment off or not run yet), if so."
    )
    items: list[Lookalike] = Field(
        description="The workspace's creators nearest in content, nearest first."
    )


class QualitySignal(BaseModel):
    name: str = Field(description="follower_spike, engagement_vs_tier, comment_like_ratio, ...")
    value: float | None = None
    threshold: float | None = None
    flagged: bool | None = Field(None, description="True when the value crosses the threshold.")
    null_reason: str | None = Field(None, description="Why the signal is unavailable, if it is.")


class Quality(BaseModel):
    platform: str
    account_id: str
    quality_score: float | None = Field(None, description="0-100; null with insufficient data.")
    tier: str | None = Field(None, description="Size tier: nano, micro, mid, macro or mega.")
    insufficient_data: bool | str | None = None
    insufficient_reason: str | None = None
    signals: list[QualitySignal]
    note: str = Field(
        "Signals of anomalies in what the official APIs show, not a count of fake followers."
    )


class BrandList(BaseModel):
    items: list[str] = Field(description="The brands of the workspace.")


class FitRow(Example):
    platform: str
    account_id: str
    username: str | None = None
    fit_score: float | None = Field(None, description="0-100.")
    fit_confidence: float | int | str | None = Field(
        None, description="How many components stood behind the score."
    )
    components: dict[str, float | int | bool | str | None] = Field(
        default_factory=dict, description="Each component of the score, null where unavailable."
    )


class FitPage(BaseModel):
    brand: str
    items: list[FitRow]
    total: int
    limit: int
    next_cursor: str | None


class TableFreshness(BaseModel):
    table_name: str = Field(description="The gold table.")
    built_at: datetime | None = Field(
        None, description="When its gate last accepted a build; null if never gated."
    )
    data_captured_until: datetime | None = Field(
        None, description="The latest capture time its rows come from."
    )


class Freshness(BaseModel):
    tables: list[TableFreshness]


class Health(BaseModel):
    status: Literal["ok"] = Field(description="The process answers.")


class Ready(BaseModel):
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
        description="Gold version counter in Redis; null when Redis is disabled or unreachable."
    )


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the token expires.")


class WorkspaceInfo(BaseModel):
    name: str
    influencers: int
    brands: int
    clients: int


class ListEntry(BaseModel):
    platform: str
    account_id: str
    added_at: datetime


class ListPage(BaseModel):
    items: list[ListEntry]
    next_cursor: str | None


class ListChange(BaseModel):
    platform: str
    account_id: str
    on_list: bool
    changed: bool


class ClientInfo(BaseModel):
    client_id: str
    name: str
    role: str
    created_at: datetime
    revoked_at: datetime | None = None


class ClientList(BaseModel):
    items: list[ClientInfo]


class NewClient(BaseModel):
    name: str = Field("", max_length=128, pattern=r"^[^\x00]*$")
    role: Literal["viewer", "analyst", "admin"]


class CreatedClient(BaseModel):
    client_id: str
    client_secret: str = Field(description="Shown once; only its hash is stored.")
    role: str


class ErasureRequest(BaseModel):
    platform: Platform
    account_id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")
    reason: str = Field("", max_length=1000, pattern=r"^[^\x00]*$")


class ErasureAccepted(BaseModel):
    request_id: int
    status: Literal["pending"] = "pending"
    status_url: str | None = Field(None, description="Where the request's status is read.")


class ErasureStatus(BaseModel):
    """An erasure request as the pipeline carries it out (`analisa erase --pending`). Once
    done it names the person by pseudonym only: the account id is erased with the rest."""

    request_id: int
    platform: str
    status: Literal["pending", "running", "done", "failed"]
    requested_at: datetime
    done_at: datetime | None = None
    subject: str | None = Field(None, description="Keyed pseudonym of the account.")
    outcome: dict | None = Field(None, description="Rows deleted and scrubbed, what remained.")
    error: str | None = None
