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
from expectations.thresholds import ENGAGEMENT_RATE_MAX, SHARE_SUM_TOLERANCE

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
                    for c in ("median_engagement_rate", "mean_engagement_rate")
                ),
            ),
            fed_by=("profile",),
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
