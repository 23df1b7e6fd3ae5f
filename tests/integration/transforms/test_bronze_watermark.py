"""Incremental staging reads exactly the bronze records its last build could not see
(macros/incremental.sql): a load still running during a build is read by the next one however
long it ran, and records an earlier build read are not read again."""

from datetime import UTC, datetime

import psycopg
import pytest

from connectors.bronze_writer import write_records
from tests.integration.transforms.dbt_fixtures import dbt_output, run_dbt
from tests.integration.transforms.test_dbt_models import rec

MODEL = "stg_instagram__account_snapshots"


def profile(account: str, followers: int, day: int):
    return rec(
        "instagram",
        "user",
        account,
        f"{account}-r{day}",
        datetime(2026, 9, day, 8, tzinfo=UTC),
        {
            "user_id": account,
            "id": account,
            "username": f"u{account}",
            "followers_count": followers,
        },
    )


def build(db_url: str, tmp_path) -> None:
    # quarantine_records names its bronze sources only while it runs: it must keep a mark too
    result = run_dbt(["run", "--select", MODEL, "quarantine_records"], db_url, tmp_path)
    assert result.returncode == 0, dbt_output(result)


def silver(conn) -> dict[str, tuple[int, str]]:
    """account → (followers, the transaction that wrote its silver row)."""
    return {
        account: (followers, xmin)
        for account, followers, xmin in conn.execute(
            f"select account_id, followers_count, xmin::text from silver.{MODEL}"
        )
    }


@pytest.mark.timeout(180)
def test_incremental_staging_reads_what_its_last_build_could_not_see(db_url, tmp_path):
    with psycopg.connect(db_url) as conn:
        write_records(conn, [profile("A", 100, 1)])
    build(db_url, tmp_path)  # first build: the table is made from all of bronze
    with psycopg.connect(db_url) as conn:
        first = silver(conn)
        assert {a: f for a, (f, _) in first.items()} == {"A": 100}
        mark = conn.execute(
            "select next_xid from ops.bronze_watermarks where relation_name = %s",
            (f"silver.{MODEL}",),
        ).fetchone()[0]
        loaded = conn.execute("select max(ingested_xid) from bronze.raw_records").fetchone()[0]
        assert mark > loaded  # the first load committed before the build: below the mark

    # a long load: started three hours ago (its ingested_at), still running during the next build
    slow = psycopg.connect(db_url)
    try:
        slow.execute("select 1")  # its transaction is open: the write below is not committed
        write_records(slow, [profile("B", 200, 2)])
        slow.execute(
            "update bronze.raw_records set ingested_at = now() - interval '3 hours' "
            "where account_id = 'B'"
        )
        with psycopg.connect(db_url) as conn:
            write_records(conn, [profile("C", 300, 2)])
        build(db_url, tmp_path)
        with psycopg.connect(db_url) as conn:
            second = silver(conn)
        # C is read; B was not committed; A was not read again (same writing transaction)
        assert {a: f for a, (f, _) in second.items()} == {"A": 100, "C": 300}
        assert second["A"][1] == first["A"][1]
        slow.commit()
    finally:
        slow.close()

    build(db_url, tmp_path)
    with psycopg.connect(db_url) as conn:
        third = silver(conn)
        marks = [
            name
            for (name,) in conn.execute(
                "select relation_name from ops.bronze_watermarks order by 1"
            )
        ]
    # the late load is read although its ingested_at is three hours older than anything built
    assert {a: f for a, (f, _) in third.items()} == {"A": 100, "B": 200, "C": 300}
    assert third["A"][1] == first["A"][1]
    # only the models that were built, and only models reading bronze
    assert marks == ["silver.quarantine_records", f"silver.{MODEL}"]


POSTS = ("int_post_snapshots", "int_post_listing_gaps", "int_posts")


def posts_state(conn) -> dict[str, list[tuple]]:
    """The account-incremental models' rows, with the transaction that wrote each row last."""
    return {
        model: conn.execute(
            f"select to_jsonb(t) - 'record_id', xmin::text from silver.{model} as t "
            "order by platform, post_id, 1::text"
        ).fetchall()
        for model in POSTS
    }


@pytest.mark.timeout(300)
def test_account_incremental_models_rebuild_the_changed_accounts_only(db_url, tmp_path):
    from tests.integration.transforms.test_dbt_models import (
        at,
        ig_insights,
        ig_item,
        ig_not_found,
        ig_page,
    )

    def listing(account, day, items):
        return ig_page(account, f"{account}-r{day}", at(day, "08:00:00"), items, last=True)

    posted = "2026-08-30T10:00:00+0000"
    with psycopg.connect(db_url) as conn:
        write_records(
            conn,
            [
                listing("A", 1, [ig_item("A1", posted, 3, likes=10), ig_item("A2", posted, 1, 5)]),
                ig_insights("A", "A1", "A-r1", at(1, "08:00:05"), reach=100),
                listing("B", 1, [ig_item("B1", posted, 2, likes=7)]),
            ],
        )
    select = ["run", "--select", "+int_posts"]
    result = run_dbt(select, db_url, tmp_path)
    assert result.returncode == 0, dbt_output(result)
    with psycopg.connect(db_url) as conn:
        before = posts_state(conn)
        # day 2: A's complete round no longer lists A2, and a probe says it is gone; B is quiet
        write_records(
            conn,
            [
                listing("A", 2, [ig_item("A1", posted, 4, likes=12)]),
                ig_insights("A", "A1", "A-r2", at(2, "08:00:05"), reach=150),
                ig_not_found("A", "A2", at(2, "09:00:00"), "A-r2"),
            ],
        )
    result = run_dbt(select, db_url, tmp_path)
    assert result.returncode == 0, dbt_output(result)
    with psycopg.connect(db_url) as conn:
        incremental = posts_state(conn)
        posts = conn.execute(
            "select post_id, likes, reach, is_deleted, captures from silver.int_posts order by 1"
        ).fetchall()
    assert posts == [("A1", 12, 150, False, 2), ("A2", 5, None, True, 1), ("B1", 7, None, False, 1)]
    # B's rows were kept as they were (same writing transaction), A's rebuilt
    for model in ("int_post_snapshots", "int_posts"):
        kept = [row for row in before[model] if row[0]["account_id"] == "B"]
        assert kept and kept == [r for r in incremental[model] if r[0]["account_id"] == "B"]
        rebuilt = [row for row in incremental[model] if row[0]["account_id"] == "A"]
        assert rebuilt and not set(xmin for _, xmin in rebuilt) & set(x for _, x in before[model])

    result = run_dbt([*select, "--full-refresh"], db_url, tmp_path)
    assert result.returncode == 0, dbt_output(result)
    with psycopg.connect(db_url) as conn:
        full = posts_state(conn)
    for model in POSTS:
        assert [row for row, _ in incremental[model]] == [row for row, _ in full[model]], model
