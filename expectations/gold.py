"""Gold gate: the metrics obey their definitions' bounds before anyone is served them.

dbt tests already hold keys and the per-row formulas (models/gold/*.yml). Here, on the whole
table: rates are not negative and not absurd, counts are not negative, audience shares lie in
[0, 1] and sum to 1 per account and dimension, the volume holds against the last accepted build
and the newest capture keeps up with bronze. A lone odd post never fails the gate.
"""

from __future__ import annotations

import psycopg

from expectations import layer
from expectations.layer import TableGate, at_least_zero, between
from expectations.results import GateResult
from expectations.thresholds import (
    ENGAGEMENT_RATE_MAX,
    FIT_SCORE_SUM_TOLERANCE,
    SCORE_MAX,
    SCORE_MIN,
    SHARE_MAX,
    SHARE_MIN,
    SHARE_SUM_TOLERANCE,
)

LAYER = "gold"

_POST = "platform, post_id"
_INFLUENCER = "platform, account_id"
_GROUP = "platform, account_id, dimension"

# One unit per account and dimension: its shares' total and extremes.
_AUDIENCE_GROUPS = f"""
    select {_GROUP}, sum(share) as share_total, min(share) as min_share, max(share) as max_share,
           min(followers_in_segment) as min_followers
    from gold.audience_segments
    group by {_GROUP}
"""

_DAY = "platform, account_id, day"
_INTEREST = "platform, account_id, interest"
_FIT = "brand_name, platform, account_id"
_FIT_COMPONENTS = (
    "age_share_in_target",
    "gender_share_in_target",
    "country_share_in_target",
    "city_share_in_target",
    "interest_overlap",
    "size_fit",
)

# Every post with an interest carries at least one: an account's per-interest counts sum to at
# least its posts with any interest (judged on each row against its account's sum, a window over
# the table's rows in the same pass rather than a lookup of the account's rows per row).
_INTEREST_SUM = (
    "sum(posts_with_interest) over (partition by platform, account_id) as account_interest_posts"
)
_INTEREST_SUM_SHORT = "posts_with_any_interest > account_interest_posts"

# fit_score recomputed from the components shown: 100 x their mean.
_FIT_RECOMPUTED = "100.0 * ({sum}) / fit_components_used".format(
    sum=" + ".join(f"coalesce({c}, 0)" for c in _FIT_COMPONENTS)
)


GATES: dict[str, TableGate] = {
    gate.table: gate
    for gate in (
        TableGate(
            LAYER,
            "fct_post_engagement",
            bounds=(
                *(
                    between(c, 0, ENGAGEMENT_RATE_MAX, _POST)
                    for c in (
                        "engagement_rate_followers",
                        "engagement_rate_reach",
                        "engagement_rate_views",
                    )
                ),
                at_least_zero("followers_at_capture", _POST),
                at_least_zero("interactions", _POST),
            ),
            fed_by=("listing",),
        ),
        TableGate(
            LAYER,
            "dim_influencers",
            bounds=(
                *(at_least_zero(c, _INFLUENCER) for c in ("followers", "following", "posts_count")),
                *(
                    between(c, 0, ENGAGEMENT_RATE_MAX, _INFLUENCER)
                    for c in (
                        "median_engagement_rate",
                        "mean_engagement_rate",
                        "median_engagement_rate_reach",
                        "median_engagement_rate_views",
                    )
                ),
                between("sponsored_share", SHARE_MIN, SHARE_MAX, _INFLUENCER),
                at_least_zero("sponsored_engagement_ratio", _INFLUENCER),
            ),
            fed_by=("profile",),
        ),
        TableGate(
            LAYER,
            "fct_influencer_daily",
            bounds=(
                *(at_least_zero(c, _DAY) for c in ("followers", "following", "posts_published")),
                between("median_engagement_rate_30d", 0, ENGAGEMENT_RATE_MAX, _DAY),
            ),
            fed_by=("profile",),
        ),
        TableGate(
            LAYER,
            "post_interests",
            bounds=(
                layer.Bound(
                    "terms_matched >= 1",
                    "terms_matched < 1",
                    "platform, post_id, interest, terms_matched",
                ),
            ),
        ),
        TableGate(
            LAYER,
            "influencer_interests",
            columns=_INTEREST_SUM,
            bounds=(
                between("share", SHARE_MIN, SHARE_MAX, _INTEREST),
                layer.Bound(
                    "posts_with_interest <= posts_with_any_interest",
                    "posts_with_interest > posts_with_any_interest",
                    f"{_INTEREST}, posts_with_interest, posts_with_any_interest",
                ),
                layer.Bound(
                    "interest counts sum to at least the posts with an interest",
                    _INTEREST_SUM_SHORT,
                    f"{_INTEREST}, posts_with_any_interest",
                ),
            ),
        ),
        TableGate(
            LAYER,
            "brand_influencer_fit",
            bounds=(
                between("fit_score", SCORE_MIN, SCORE_MAX, _FIT),
                *(between(c, SHARE_MIN, SHARE_MAX, _FIT) for c in _FIT_COMPONENTS),
                between("fit_confidence", SHARE_MIN, SHARE_MAX, _FIT),
                layer.Bound(
                    "fit_score = 100 x mean of its components",
                    f"fit_components_used > 0 and abs(fit_score - {_FIT_RECOMPUTED})"
                    f" > {FIT_SCORE_SUM_TOLERANCE}",
                    f"{_FIT}, fit_score, fit_components_used",
                ),
            ),
        ),
        TableGate(
            LAYER,
            "influencer_quality",
            bounds=(
                between("quality_score", SCORE_MIN, SCORE_MAX, _INFLUENCER),
                between("viral_share", SHARE_MIN, SHARE_MAX, _INFLUENCER),
                at_least_zero("follower_spike", _INFLUENCER),
                *(
                    at_least_zero(c, _INFLUENCER)
                    for c in ("engagement_vs_tier", "comment_like_ratio", "views_per_follower")
                ),
            ),
        ),
        TableGate(
            LAYER,
            "audience_segments",
            units=_AUDIENCE_GROUPS,
            unit_name="account dimensions",
            bounds=(
                layer.Bound(
                    "shares in [0, 1]",
                    "min_share < 0 or max_share > 1",
                    f"{_GROUP}, min_share, max_share",
                ),
                layer.Bound(
                    "shares sum to 1",
                    f"abs(share_total - 1) > {SHARE_SUM_TOLERANCE}",
                    f"{_GROUP}, share_total",
                ),
                layer.Bound(
                    "followers_in_segment >= 0", "min_followers < 0", f"{_GROUP}, min_followers"
                ),
            ),
            fed_by=("audience",),
        ),
    )
}


def run(
    conn: psycopg.Connection, tables: list[str] | None = None, run_id: str | None = None
) -> dict[str, GateResult]:
    """The gate of the given gold tables (all by default); accepted row counts recorded."""
    return layer.run(conn, [GATES[t] for t in (GATES if tables is None else tables)], run_id)
