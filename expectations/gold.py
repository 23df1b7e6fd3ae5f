"""Gold gate: the metrics obey their definitions' bounds before anyone is served them.
Rates are never negative, shares lie in [0, 1] and sum to 1 per account and dimension."""

from __future__ import annotations

import psycopg

from expectations.runner import SuiteResult, validate_query

QUERIES = {
    "fct_post_engagement": """
        select platform, post_id, posted_at, followers_at_capture, engagement_rate_followers,
               engagement_rate_reach, engagement_rate_views, likes_hidden, is_deleted
        from gold.fct_post_engagement""",
    "dim_influencers": """
        select platform, account_id, followers, posts_count,
               median_engagement_rate, mean_engagement_rate
        from gold.dim_influencers""",
    # one row per account and dimension: the share total must be 1
    "audience_segments": """
        select platform, account_id, dimension, sum(share)::float8 as share_total,
               min(share)::float8 as min_share, max(share)::float8 as max_share
        from gold.audience_segments group by 1, 2, 3""",
}


def _posts(E):
    return [
        E.ExpectCompoundColumnsToBeUnique(column_list=["platform", "post_id"]),
        E.ExpectColumnValuesToNotBeNull(column="posted_at"),
        *(
            E.ExpectColumnValuesToBeBetween(column=c, min_value=0)
            for c in (
                "followers_at_capture",
                "engagement_rate_followers",
                "engagement_rate_reach",
                "engagement_rate_views",
            )
        ),
        E.ExpectColumnValuesToNotBeNull(column="likes_hidden"),
        E.ExpectColumnValuesToNotBeNull(column="is_deleted"),
    ]


def _influencers(E):
    return [
        E.ExpectCompoundColumnsToBeUnique(column_list=["platform", "account_id"]),
        E.ExpectColumnValuesToBeBetween(column="followers", min_value=0),
        E.ExpectColumnValuesToBeBetween(column="median_engagement_rate", min_value=0),
        E.ExpectColumnValuesToBeBetween(column="mean_engagement_rate", min_value=0),
    ]


def _audience(E):
    return [
        E.ExpectColumnValuesToBeBetween(
            column="share_total", min_value=0.999999, max_value=1.000001
        ),
        E.ExpectColumnValuesToBeBetween(column="min_share", min_value=0, max_value=1),
        E.ExpectColumnValuesToBeBetween(column="max_share", min_value=0, max_value=1),
    ]


SUITES = {
    "fct_post_engagement": _posts,
    "dim_influencers": _influencers,
    "audience_segments": _audience,
}


def validate_model(conn: psycopg.Connection, model: str) -> SuiteResult:
    return validate_query(conn, QUERIES[model], f"gold_{model}", SUITES[model])
