"""Insights: a media's lifetime metrics and an account's follower demographics.

The checks and their wording follow Graph API v22+: the metrics it retired answer with the
message that names their replacement, and demographics want metric_type=total_value.
"""

from __future__ import annotations

from collections.abc import Mapping

from analisa.core.catalog import AUDIENCE_BREAKDOWNS
from sandbox.instagram.errors import param_error
from sandbox.replies import Reply, json_reply
from sandbox.world import Account, InstagramMedia, SandboxWorld

MEDIA_METRICS = {
    "reach": ("Reach", "The number of unique accounts that have seen the media."),
    "saved": ("Saved", "The number of saves of the media."),
    "shares": ("Shares", "The number of shares of the media."),
    "views": ("Views", "The number of times the media was played or displayed."),
    "total_interactions": (
        "Total interactions",
        "The number of likes, saves, comments and shares on the media, minus unlikes, unsaves "
        "and deleted comments.",
    ),
    "likes": ("Likes", "The number of likes on the media."),
    "comments": ("Comments", "The number of comments on the media."),
}
DEPRECATED_METRICS = frozenset(
    {
        "impressions",
        "plays",
        "video_views",
        "clips_replays_count",
        "ig_reels_aggregated_all_plays_count",
    }
)
# Metrics of stories only: a feed post or reel asked for one fails the whole call (error 100).
STORY_ONLY_METRICS = frozenset({"replies", "navigation"})
DEPRECATED_TIMEFRAMES = frozenset({"last_14_days", "last_30_days", "last_90_days", "prev_month"})


def media_insights(media: InstagramMedia, query: Mapping[str, str]) -> Reply:
    """GET /{ig-media-id}/insights: lifetime values of the requested metrics."""
    names = [m.strip() for m in query.get("metric", "").split(",") if m.strip()]
    if not names:
        return param_error("The parameter metric is required")
    if query.get("period", "lifetime") != "lifetime":
        return param_error("Incompatible period: media insights are lifetime only")
    for index, name in enumerate(names):
        if name in DEPRECATED_METRICS:
            return param_error(
                f"Starting from version v22.0 and above, the {name} metric is no longer "
                "supported for media insights. Please use the views metric instead."
            )
        if name in STORY_ONLY_METRICS:
            return param_error(
                f"The Media Insights API does not support the {name} metric for this media "
                "product type."
            )
        if name not in MEDIA_METRICS:
            return param_error(
                f"metric[{index}] must be one of the following values: " + ", ".join(MEDIA_METRICS)
            )
    values = {
        "reach": media.reach,
        "saved": media.saved,
        "shares": media.shares,
        "views": media.views,
        "total_interactions": media.total_interactions,
        "likes": media.like_count,
        "comments": media.comments_count,
    }
    return lifetime_insights(media.media_id, names, values, MEDIA_METRICS)


def lifetime_insights(
    object_id: str,
    names: list[str],
    values: Mapping[str, int | None],
    metrics: Mapping[str, tuple[str, str]],
) -> Reply:
    """An object's insights answer: each asked metric once, in the order asked, with its
    lifetime value and the title and description the platform gives it."""
    data = [
        {
            "name": name,
            "period": "lifetime",
            "values": [{"value": values[name]}],
            "title": metrics[name][0],
            "description": metrics[name][1],
            "id": f"{object_id}/insights/{name}/lifetime",
        }
        for name in dict.fromkeys(names)
    ]
    return json_reply(200, {"data": data}, ascii_only=True)


def _demographics_problem(query: Mapping[str, str]) -> Reply | None:
    """The error for a follower_demographics request the platform would refuse, if any."""
    metric = query.get("metric", "")
    if not metric:
        return param_error("The parameter metric is required")
    if metric != "follower_demographics":
        return param_error("metric[0] must be one of the following values: follower_demographics")
    if query.get("period") != "lifetime":
        return param_error("Incompatible period: follower_demographics supports lifetime")
    if query.get("metric_type") != "total_value":
        return param_error(
            "The following metrics (follower_demographics) should be specified with "
            "parameter metric_type=total_value"
        )
    timeframe = query.get("timeframe")
    if not timeframe:
        return param_error("Param timeframe is required for the requested metrics")
    if timeframe in DEPRECATED_TIMEFRAMES:
        return param_error(f"The timeframe {timeframe} is no longer supported")
    if timeframe not in ("this_month", "this_week"):
        return param_error("timeframe must be one of the following values: this_week, this_month")
    if query.get("breakdown", "") not in AUDIENCE_BREAKDOWNS:
        return param_error(
            "breakdown must be one of the following values: age, gender, country, city"
        )
    return None


def user_insights(
    world: SandboxWorld, account: Account, path_id: str, query: Mapping[str, str]
) -> Reply:
    """GET /{ig-user-id}/insights?metric=follower_demographics: one breakdown of followers."""
    problem = _demographics_problem(query)
    if problem is not None:
        return problem
    breakdown = query["breakdown"]
    rows = world.demographics(account.account_id, breakdown)
    results = [{"dimension_values": list(values), "value": n} for values, n in rows]
    body = {
        "data": [
            {
                "name": "follower_demographics",
                "period": "lifetime",
                "title": "Follower demographics",
                "description": "The demographic characteristics of followers, including "
                "countries, cities and gender distribution.",
                "total_value": {
                    "breakdowns": [{"dimension_keys": breakdown.split(","), "results": results}]
                },
                "id": f"{path_id}/insights/follower_demographics/lifetime",
            }
        ]
    }
    return json_reply(200, body, ascii_only=True)
