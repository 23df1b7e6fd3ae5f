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
