"""The gold gate on the tables brands read, on hand-made rows in the real PostgreSQL: scores
outside 0-100, shares outside 0-1, a fit score that disagrees with its components and interest
counts that cannot add up fail once they are systemic (more than one row and 1 % of the table);
the same tables with true values pass."""

from __future__ import annotations

import psycopg
import pytest

from expectations import gold

DDL = """
create table gold.brand_influencer_fit (
    brand_name text, platform text, account_id text, fit_score numeric,
    age_share_in_target numeric, gender_share_in_target numeric,
    country_share_in_target numeric, city_share_in_target numeric, interest_overlap numeric,
    size_fit numeric, fit_components_used int, fit_confidence numeric);
create table gold.influencer_interests (
    platform text, account_id text, interest text, posts_with_interest int,
    posts_with_any_interest int, share numeric);
create table gold.influencer_quality (
    platform text, account_id text, quality_score numeric, viral_share numeric,
    follower_spike numeric, engagement_vs_tier numeric, comment_like_ratio numeric,
    views_per_follower numeric);
"""

TABLES = ["brand_influencer_fit", "influencer_interests", "influencer_quality"]


@pytest.fixture
def conn(db_url):
    with psycopg.connect(db_url) as conn:
        conn.execute(DDL)
        yield conn


def fit_row(account, score, age, gender, used=2):
    return ("b", "instagram", account, score, age, gender, None, None, None, None, used, 1)


def insert(conn, table, rows):
    marks = ", ".join(["%s"] * len(rows[0]))
    conn.cursor().executemany(f"insert into gold.{table} values ({marks})", rows)


def failing(result):
    return sorted(f.name for f in result.failures)


def test_true_values_pass(conn):
    # (0.5 + 1) / 2 × 100 = 75
    insert(conn, "brand_influencer_fit", [fit_row(f"a{i}", 75, 0.5, 1) for i in range(3)])
    # a1: posts p1 (fitness, food), p2 (food): 2 posts with an interest, counts 1 + 2 = 3 ≥ 2
    insert(
        conn,
        "influencer_interests",
        [("instagram", "a1", "fitness", 1, 2, 0.5), ("instagram", "a1", "food", 2, 2, 1)],
    )
    insert(conn, "influencer_quality", [("instagram", "a1", 100, 0.2, 1.5, 1, 0.1, None)])
    results = gold.run(conn, TABLES)
    assert all(r.success for r in results.values()), [r.summary() for r in results.values()]


def test_scores_shares_and_sums_out_of_bounds_fail(conn):
    insert(
        conn,
        "brand_influencer_fit",
        [
            fit_row("a1", 120, 1, 1.4),  # score above 100, a share above 1
            fit_row("a2", 140, 1, 1.8),
            fit_row("a3", 40, 0.5, 1),  # components say 75
            fit_row("a4", 30, 0.5, 1),
        ],
    )
    insert(
        conn,
        "influencer_interests",
        [  # 3 posts with an interest, but the per-interest counts sum to 2
            ("instagram", "a1", "fitness", 1, 3, 0.3333),
            ("instagram", "a1", "food", 1, 3, 0.3333),
            ("instagram", "a2", "food", 2, 1, 2),  # share 2 and 2 posts of 1
            ("instagram", "a3", "food", 3, 1, 3),
        ],
    )
    insert(
        conn,
        "influencer_quality",
        [("instagram", "a1", -5, 1.5, 1, 1, 0.1, None), ("instagram", "a2", 101, 2, 1, 1, 0.1, 0)],
    )
    results = gold.run(conn, TABLES)
    assert failing(results["brand_influencer_fit"]) == [
        "fit_score = 100 x mean of its components",
        "fit_score in [0, 100]",
        "gender_share_in_target in [0, 1]",
    ]
    assert failing(results["influencer_interests"]) == [
        "interest counts sum to at least the posts with an interest",
        "posts_with_interest <= posts_with_any_interest",
        "share in [0, 1]",
    ]
    assert failing(results["influencer_quality"]) == [
        "quality_score in [0, 100]",
        "viral_share in [0, 1]",
    ]
    # the baseline is not recorded when the layer failed
    assert conn.execute("select count(*) from ops.gate_row_counts").fetchone()[0] == 0
