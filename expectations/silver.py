"""Silver gate: typed rows whose values can be true. Counts are never negative, every post
has an id and a posting time, a post is captured at most once per instant. A failure here
stops gold from being rebuilt: the API keeps serving the last good gold."""

from __future__ import annotations

import psycopg

from expectations.runner import SuiteResult, validate_query

QUERIES = {
    "int_post_snapshots": """
        select platform, account_id, post_id, posted_at, captured_at,
               likes, comments, shares, views, reach
        from silver.int_post_snapshots""",
    "int_account_snapshots": """
        select platform, account_id, followers, following, posts_count, captured_at
        from silver.int_account_snapshots""",
    "int_audience_demographics": """
        select platform, account_id, dimension, segment, value, captured_at
        from silver.int_audience_demographics""",
}


def _posts(E):
    return [
        E.ExpectColumnValuesToNotBeNull(column="post_id"),
        E.ExpectColumnValuesToNotBeNull(column="posted_at"),
        E.ExpectColumnValuesToNotBeNull(column="captured_at"),
        E.ExpectColumnValuesToBeInSet(column="platform", value_set=["instagram", "tiktok"]),
        *(
            E.ExpectColumnValuesToBeBetween(column=c, min_value=0)
            for c in ("likes", "comments", "shares", "views", "reach")
        ),
        E.ExpectCompoundColumnsToBeUnique(column_list=["platform", "post_id", "captured_at"]),
    ]


def _accounts(E):
    return [
        E.ExpectColumnValuesToNotBeNull(column="account_id"),
        E.ExpectColumnValuesToNotBeNull(column="followers"),
        *(
            E.ExpectColumnValuesToBeBetween(column=c, min_value=0)
            for c in ("followers", "following", "posts_count")
        ),
        E.ExpectCompoundColumnsToBeUnique(column_list=["platform", "account_id", "captured_at"]),
    ]


def _audience(E):
    return [
        E.ExpectColumnValuesToBeInSet(
            column="dimension", value_set=["age", "gender", "age_gender", "country", "city"]
        ),
        E.ExpectColumnValuesToNotBeNull(column="segment"),
        E.ExpectColumnValuesToBeBetween(column="value", min_value=0),
    ]


SUITES = {
    "int_post_snapshots": _posts,
    "int_account_snapshots": _accounts,
    "int_audience_demographics": _audience,
}


def validate_model(conn: psycopg.Connection, model: str) -> SuiteResult:
    return validate_query(conn, QUERIES[model], f"silver_{model}", SUITES[model])
