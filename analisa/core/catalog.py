"""The one list of what Analisa collects: platforms, their endpoints and the audience breakdowns.

Everything that needs such a list takes it from here: the bronze views (migrations), the raw
import, the Dagster bronze assets and gates, the collectors, and a test that holds the dbt
sources (`dbt_project/models/silver/_bronze__sources.yml`) against it. Adding an endpoint starts
here. The sandbox reads the breakdowns and age bands too: they are platform facts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

EndpointKind = Literal["profile", "listing", "object", "audience"]


@dataclass(frozen=True)
class Endpoint:
    """One logical endpoint: a kind of answer that bronze keeps in its own view."""

    platform: str
    name: str
    kind: EndpointKind
    """profile: one answer about the account; listing: pages of the account's posts, grouped
    by round; object: one answer about given posts; audience: one breakdown of the followers."""
    description: str
    object_id_required: bool = False
    """Whether a record must say which post it is about (insights, probes of one post)."""

    @property
    def view(self) -> str:
        """The bronze view and dbt source name: `<platform>_<endpoint>`."""
        return f"{self.platform}_{self.name}"

    @property
    def is_listing(self) -> bool:
        return self.kind == "listing"

    @property
    def is_per_object(self) -> bool:
        return self.kind == "object"


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        "instagram",
        "user",
        "profile",
        "Instagram profile answers (`/me`) and Business Discovery answers about another creator.",
    ),
    Endpoint(
        "instagram",
        "media",
        "listing",
        "Instagram media list pages (`/{ig-user-id}/media`), cursor-paginated.",
    ),
    Endpoint(
        "instagram",
        "media_insights",
        "object",
        "Instagram insights of one media (`/{media-id}/insights`).",
        object_id_required=True,
    ),
    Endpoint(
        "instagram",
        "user_insights",
        "audience",
        "Instagram follower demographics, one breakdown per answer.",
    ),
    Endpoint(
        "instagram",
        "media_object",
        "object",
        "Instagram probes of one media (`/{media-id}`): does the post still exist.",
        object_id_required=True,
    ),
    Endpoint(
        "instagram",
        "stories",
        "listing",
        "Instagram stories live now (`/{ig-user-id}/stories`, 24 h each), cursor-paginated; "
        "stories are not posts: never in the post tables, never deleted when they expire.",
    ),
    Endpoint(
        "instagram",
        "story_insights",
        "object",
        "Instagram insights of one live story (`/{story-id}/insights`, the story metric set).",
        object_id_required=True,
    ),
    Endpoint(
        "tiktok",
        "user_info",
        "profile",
        "TikTok user info answers (`/v2/user/info/`).",
    ),
    Endpoint(
        "tiktok",
        "video_list",
        "listing",
        "TikTok video list pages (`/v2/video/list/`), cursor-paginated.",
    ),
    Endpoint(
        "tiktok",
        "video_query",
        "object",
        "TikTok video queries (`/v2/video/query/`): current counts of given videos; an absent "
        "id no longer exists.",
    ),
)

PLATFORMS: tuple[str, ...] = tuple(dict.fromkeys(e.platform for e in ENDPOINTS))


def endpoints(platform: str | None = None) -> tuple[Endpoint, ...]:
    """The endpoints of one platform (all when None), in catalog order."""
    return tuple(e for e in ENDPOINTS if platform is None or e.platform == platform)


def endpoint(platform: str, name: str) -> Endpoint:
    """The catalog entry; KeyError naming what exists when there is none."""
    for e in ENDPOINTS:
        if e.platform == platform and e.name == name:
            return e
    if platform not in PLATFORMS:
        raise KeyError(f"unknown platform {platform!r} (expected one of {', '.join(PLATFORMS)})")
    names = ", ".join(e.name for e in endpoints(platform))
    raise KeyError(f"unknown {platform} endpoint {name!r} (expected one of {names})")


def endpoint_names(platform: str) -> frozenset[str]:
    return frozenset(e.name for e in endpoints(platform))


# Instagram follower demographics: the `breakdown` parameter → the silver/gold dimension name.
AUDIENCE_BREAKDOWNS: dict[str, str] = {
    "age": "age",
    "gender": "gender",
    "age,gender": "age_gender",
    "country": "country",
    "city": "city",
}
AUDIENCE_DIMENSIONS: tuple[str, ...] = tuple(AUDIENCE_BREAKDOWNS.values())
AGE_BANDS: tuple[str, ...] = ("13-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+")
GENDERS: tuple[str, ...] = ("F", "M", "U")
# Instagram reports demographics only for accounts with at least this many followers, and only
# the top entries of a breakdown (so city and country totals cover part of the followers).
DEMOGRAPHICS_MIN_FOLLOWERS = 100
DEMOGRAPHICS_TOP_ENTRIES = 45
