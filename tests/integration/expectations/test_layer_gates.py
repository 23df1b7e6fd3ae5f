"""The silver and gold gates on hand-made tables in the real PostgreSQL: a lone odd row passes,
a systemic share fails; a volume collapse against the last accepted build fails; a quarantine
share over the threshold fails; captures lagging behind bronze fail. Limits are the named
thresholds (expectations/thresholds.py): odd share 1 %, volume 50 %, quarantine 10 %, lag 12 h."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from connectors.bronze_writer import write_records
from connectors.records import RawRecord
from expectations import bronze, gold, layer, silver

T0 = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)

SILVER_DDL = """
create schema if not exists silver;
create table silver.int_post_snapshots (
    platform text, account_id text, post_id text, likes int, comments int, shares int,
    views int, reach int, saved int, captured_at timestamptz);
create table silver.int_account_snapshots (
    platform text, account_id text, followers int, following int, posts_count int,
    likes_count int, captured_at timestamptz);
create table silver.int_audience_demographics (
    platform text, account_id text, dimension text, segment text, value int,
    captured_at timestamptz);
create table silver.quarantine_records (record_id bigint, reason text);
"""

GOLD_DDL = """
create table gold.fct_post_engagement (
    platform text, account_id text, post_id text, interactions int, followers_at_capture int,
    engagement_rate_followers numeric, engagement_rate_reach numeric,
    engagement_rate_views numeric, captured_at timestamptz);
create table gold.dim_influencers (
    platform text, account_id text, followers int, following int, posts_count int,
    median_engagement_rate numeric, mean_engagement_rate numeric, captured_at timestamptz);
create table gold.audience_segments (
    platform text, account_id text, dimension text, segment text, share numeric,
    followers_in_segment int, captured_at timestamptz);
"""


@pytest.fixture
def conn(db_url):
    with psycopg.connect(db_url) as conn:
        conn.execute(SILVER_DDL)
        conn.execute(GOLD_DDL)
        yield conn


def add_posts(conn, n, *, likes=10, at=T0, platform="instagram", start=0):
    conn.cursor().executemany(
        "insert into silver.int_post_snapshots (platform, account_id, post_id, likes, comments, "
        "shares, views, reach, saved, captured_at) values (%s, 'a', %s, %s, 1, 1, 1, 1, 1, %s)",
        [(platform, f"p{start + i}", likes, at) for i in range(n)],
    )


def failures(result):
    return [(f.name, f.observed) for f in result.failures]


# --- bounds: a lone odd row passes, a systemic share fails -----------------------------------


def test_one_negative_count_among_many_passes(conn):
    add_posts(conn, 199)
    add_posts(conn, 1, likes=-5, start=199)
    result = silver.run(conn, ["int_post_snapshots"])["int_post_snapshots"]
    assert result.success, result.summary()
    likes = next(c for c in result.checks if c.name == "likes >= 0")
    assert likes.observed == {"odd": 1, "total": 200, "share": 0.005}


def test_one_negative_count_in_a_tiny_table_passes_too(conn):
    add_posts(conn, 1)
    add_posts(conn, 1, likes=-5, start=1)  # half the table, but a single row
    assert silver.run(conn, ["int_post_snapshots"])["int_post_snapshots"].success


def test_negative_counts_over_one_percent_fail(conn):
    # 2 of 200 = 1.0 %: not above the limit
    add_posts(conn, 198)
    add_posts(conn, 2, likes=-1, start=198)
    assert silver.run(conn, ["int_post_snapshots"])["int_post_snapshots"].success
    # 3 of 201 = 1.49 %: systemic
    add_posts(conn, 1, likes=-1, start=200)
    result = silver.run(conn, ["int_post_snapshots"])["int_post_snapshots"]
    assert failures(result) == [("likes >= 0", {"odd": 3, "total": 201, "share": 0.014925})]
    assert "likes >= 0: 3 of 201 rows (1.5%, limit 1%) (e.g. platform=instagram" in (
        result.summary()
    )


def test_hidden_likes_are_not_odd(conn):
    add_posts(conn, 10, likes=None)
    result = silver.run(conn, ["int_post_snapshots"])["int_post_snapshots"]
    assert result.success and result.rows == 10


# --- volume against the last accepted build ---------------------------------------------------


def _accepted(conn, table):
    return conn.execute(
        "select row_count from ops.gate_row_counts where table_name = %s order by build_id",
        (table,),
    ).fetchall()


def test_a_volume_collapse_against_the_last_accepted_build_fails(conn):
    add_posts(conn, 200)
    first = silver.run(conn, ["int_post_snapshots"], run_id="run-1")["int_post_snapshots"]
    assert first.success
    assert first.checks[0].describe() == "volume: 200 rows, first accepted build"
    assert _accepted(conn, "int_post_snapshots") == [(200,)]

    # 100 of 200 is exactly half: accepted, and the new baseline
    conn.execute("truncate silver.int_post_snapshots")
    add_posts(conn, 100)
    assert silver.run(conn, ["int_post_snapshots"])["int_post_snapshots"].success
    assert _accepted(conn, "int_post_snapshots") == [(200,), (100,)]

    # 49 of 100 is a collapse, however sound each row is; the failed build is not recorded
    conn.execute("truncate silver.int_post_snapshots")
    add_posts(conn, 49)
    result = silver.run(conn, ["int_post_snapshots"])["int_post_snapshots"]
    assert failures(result) == [("volume", {"rows": 49, "previous": 100})]
    assert result.failures[0].unexpected == (
        "expect_column_values_to_be_between: rows / previous 0.49 not >= 0.5",
    )
    assert result.summary() == (
        "silver_int_post_snapshots: volume: 49 rows against 100 in the last accepted build "
        "(at least 50% required)"
    )
    assert _accepted(conn, "int_post_snapshots") == [(200,), (100,)]


def test_a_build_failing_anywhere_in_the_layer_records_no_baseline(conn):
    add_posts(conn, 10)
    results = silver.run(conn)
    assert all(r.success for r in results.values())
    assert {t for (t,) in conn.execute("select table_name from ops.gate_row_counts")} == {
        "int_post_snapshots",
        "int_account_snapshots",
        "int_audience_demographics",
    }
    add_posts(conn, 2, likes=-1, start=10)  # 2 of 12: systemic
    results = silver.run(conn)
    assert [t for t, r in results.items() if not r.success] == ["int_post_snapshots"]
    assert conn.execute("select count(*) from ops.gate_row_counts").fetchone()[0] == 3


# --- quarantine share -------------------------------------------------------------------------


def answers(conn, n, *, endpoint="media", platform="instagram", newest=T0, step=timedelta(hours=1)):
    """Write n usable answers, one `step` apart back from `newest`; returns the record_ids of
    all the answers of that endpoint, newest first."""
    records = [
        RawRecord(
            platform,
            endpoint,
            "a",
            f"r{i}",
            newest - i * step,
            200,
            json.dumps({"data": [], "i": i}),
        )
        for i in range(n)
    ]
    write_records(conn, records)
    return [
        r
        for (r,) in conn.execute(
            "select record_id from bronze.raw_records where platform = %s and endpoint = %s "
            "order by fetched_at desc",
            (platform, endpoint),
        )
    ]


def quarantine(conn, record_ids):
    conn.cursor().executemany(
        "insert into silver.quarantine_records (record_id, reason) values (%s, 'test')",
        [(r,) for r in record_ids],
    )


def test_a_quarantine_share_over_the_threshold_fails(conn):
    recent = answers(conn, 20)  # T0 back to T0 - 19 h: all in the 24 h window
    quarantine(conn, recent[:2])  # 2 of 20 = 10 %: not above the limit
    result = silver.run(conn, ["quarantine_records"])["quarantine_records"]
    assert result.success, result.summary()
    assert result.rows == 2

    quarantine(conn, recent[2:3])  # 3 of 20 = 15 %
    result = silver.run(conn, ["quarantine_records"])["quarantine_records"]
    assert failures(result) == [
        ("quarantined instagram_media", {"odd": 3, "total": 20, "share": 0.15})
    ]
    assert "3 of 20 answers of the latest 24.0 h (15.0%, limit 10%)" in result.summary()


def test_quarantine_is_judged_on_the_latest_answers_and_tolerates_a_lone_one(conn):
    # 30 old answers, all unusable, two days before the newest: outside the window
    old = answers(conn, 30, newest=T0 - timedelta(days=2), step=timedelta(minutes=1))
    answers(conn, 10)  # the latest: T0 back to T0 - 9 h, all usable
    quarantine(conn, old)
    # a lone TikTok answer, quarantined: 100 % of its endpoint, but one answer
    (tiktok,) = answers(conn, 1, platform="tiktok", endpoint="video_list")
    quarantine(conn, [tiktok])
    result = silver.run(conn, ["quarantine_records"])["quarantine_records"]
    assert result.success, result.summary()
    assert [(c.name, c.observed["odd"], c.observed["total"]) for c in result.checks] == [
        ("quarantined instagram_media", 0, 10),
        ("quarantined tiktok_video_list", 1, 1),
    ]


# --- freshness against bronze -----------------------------------------------------------------


def test_captures_lagging_behind_bronze_fail(conn):
    answers(conn, 1)  # newest usable instagram listing answer: T0
    add_posts(conn, 5, at=T0 - timedelta(hours=11))
    result = silver.run(conn, ["int_post_snapshots"])["int_post_snapshots"]
    assert result.success and result.checks[-1].observed == {"lag_seconds": {"instagram": 39600}}

    conn.execute(
        "update silver.int_post_snapshots set captured_at = %s", (T0 - timedelta(hours=13),)
    )
    result = silver.run(conn, ["int_post_snapshots"])["int_post_snapshots"]
    assert failures(result) == [("freshness", {"lag_seconds": {"instagram": 46800}})]
    assert result.metadata()["unexpected"] == [
        "freshness: expect_column_values_to_be_between: lag_seconds instagram 46800 not <= 43200"
    ]
    assert (
        "instagram newest capture 2026-09-30T23:00:00+00:00 is 13.0 h behind bronze "
        "2026-10-01T12:00:00+00:00 (limit 12.0 h)" in result.summary()
    )


def test_freshness_ignores_answers_silver_cannot_use_and_platforms_without_rows(conn):
    answers(conn, 1)
    add_posts(conn, 5, at=T0)
    later = T0 + timedelta(days=1)
    # a throttled round (an error answer) and a quarantined answer, both a day newer
    write_records(
        conn,
        [RawRecord("instagram", "media", "a", "r8", later, 429, '{"error": {"code": 4}}')],
    )
    (newest, *_) = answers(conn, 1, newest=later + timedelta(hours=1))
    quarantine(conn, [newest])
    # TikTok listings in bronze, but no TikTok post yet: nothing to be stale
    answers(conn, 1, platform="tiktok", endpoint="video_list", newest=later)
    result = silver.run(conn, ["int_post_snapshots"])["int_post_snapshots"]
    assert result.success, result.summary()
    assert result.checks[-1].observed == {"lag_seconds": {"instagram": 0}}


# --- gold -------------------------------------------------------------------------------------


def add_groups(conn, n, *, shares=(0.25, 0.75), start=0):
    conn.cursor().executemany(
        "insert into gold.audience_segments (platform, account_id, dimension, segment, share, "
        "followers_in_segment, captured_at) values ('instagram', %s, 'gender', %s, %s, 10, %s)",
        [(f"a{start + i}", f"s{j}", share, T0) for i in range(n) for j, share in enumerate(shares)],
    )


def test_audience_shares_not_summing_to_one_fail_when_systemic(conn):
    add_groups(conn, 99)
    add_groups(conn, 1, shares=(0.5, 0.7), start=99)  # one account's gender sums to 1.2
    result = gold.run(conn, ["audience_segments"])["audience_segments"]
    assert result.success, result.summary()
    assert result.rows == 200
    add_groups(conn, 1, shares=(0.5, 0.7), start=100)  # 2 of 101 account dimensions
    result = gold.run(conn, ["audience_segments"])["audience_segments"]
    assert failures(result) == [("shares sum to 1", {"odd": 2, "total": 101, "share": 0.019802})]
    assert "2 of 101 account dimensions" in result.summary()


def test_shares_sum_with_exact_division_remainders(conn):
    add_groups(conn, 3, shares=("0.33333333333333333333",) * 3)
    assert gold.run(conn, ["audience_segments"])["audience_segments"].success


def test_absurd_engagement_rates_fail_when_systemic(conn):
    def posts(rates, start):
        conn.cursor().executemany(
            "insert into gold.fct_post_engagement (platform, account_id, post_id, interactions, "
            "followers_at_capture, engagement_rate_followers, captured_at) "
            "values ('tiktok', 'a', %s, 10, 100, %s, %s)",
            [(f"p{start + i}", rate, T0) for i, rate in enumerate(rates)],
        )

    posts([10] * 198, 0)
    posts([5000], 198)  # a viral post: fifty times the followers
    assert gold.run(conn, ["fct_post_engagement"])["fct_post_engagement"].success
    posts([-1], 199)  # 2 of 200 out of [0, 1000]: not above 1 %
    assert gold.run(conn, ["fct_post_engagement"])["fct_post_engagement"].success
    posts([2000], 200)  # 3 of 201
    result = gold.run(conn, ["fct_post_engagement"])["fct_post_engagement"]
    assert failures(result) == [
        ("engagement_rate_followers in [0, 1000]", {"odd": 3, "total": 201, "share": 0.014925})
    ]


# --- the bronze they read: the latest window, bounded by the bronze gate's marks ------------


def test_the_latest_window_from_the_bronze_gate_marks_gives_the_same_numbers(conn):
    answers(conn, 5, newest=T0 - timedelta(days=3))  # usable, three days before the rest
    recent = answers(conn, 20)[:20]  # T0 back to T0 - 19 h
    quarantine(conn, recent[:3])

    def numbers():
        result = silver.run(conn, ["quarantine_records"])["quarantine_records"]
        return layer.newest_usable(conn), [(c.name, c.observed) for c in result.checks]

    read_whole = numbers()
    assert read_whole[0] == {("instagram", "listing"): T0 - timedelta(hours=3)}
    assert read_whole[1] == [
        ("quarantined instagram_media", {"odd": 3, "total": 20, "share": 0.15})
    ]
    # the bronze gate accepts what it saw: the same numbers from its marks and what came after
    conn.commit()
    assert all(r.success for r in bronze.run(conn, now=T0).values())
    conn.commit()
    assert bronze.marks(conn)[("instagram", "media")].newest_answer_at == T0
    assert numbers() == read_whole
    # a newer round, and every answer of the latest day quarantined: the newest usable answer
    # is three days back, outside the window, found in the whole history
    newer = answers(conn, 2, newest=T0 + timedelta(hours=2))[:2]
    quarantine(conn, [*newer, *recent[3:]])
    newest, checks = numbers()
    assert newest == {("instagram", "listing"): T0 - timedelta(days=3)}
    assert checks == [("quarantined instagram_media", {"odd": 22, "total": 22, "share": 1.0})]
