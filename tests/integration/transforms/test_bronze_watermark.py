"""Incremental staging reads exactly the bronze records its last build could not see
(macros/incremental.sql): a load still running during a build is read by the next one however
long it ran, and records an earlier build read are not read again."""

from datetime import UTC, datetime
from decimal import Decimal

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


def key_indexes(conn) -> list[str]:
    """The column lists of the model's indexes (and what they enforce)."""
    return [
        definition.split(" USING btree ")[1]
        for (definition,) in conn.execute(
            "select indexdef from pg_indexes where schemaname = 'silver' and tablename = %s",
            (MODEL,),
        )
    ]


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
        # its delete+insert merges on (account_id, captured_at): the key has a unique index ...
        assert key_indexes(conn) == ["(account_id, captured_at) NULLS NOT DISTINCT"]
        # ... which a table built without it gets on its next build
        index = conn.execute(
            "select indexname from pg_indexes where schemaname = 'silver' and tablename = %s",
            (MODEL,),
        ).fetchone()[0]
        conn.execute(f'drop index silver."{index}"')
        # (a plain index on the key, as tables built before keys were enforced have, is replaced)
        conn.execute(f"create index on silver.{MODEL} (captured_at, account_id)")

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
        with psycopg.connect(db_url) as conn:
            assert key_indexes(conn) == ["(account_id, captured_at) NULLS NOT DISTINCT"]
            # the one row this build wrote, found through the new rows' keys
            written = conn.execute(
                "select written_rows, (select array_agg(ctid) from silver."
                + MODEL
                + " where account_id = 'C') from ops.bronze_watermarks where relation_name = %s",
                (f"silver.{MODEL}",),
            ).fetchone()
            assert len(written[0]) == 1 and written[0] == written[1]
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


# int_post_snapshots is a view of one table per platform; these accounts are on Instagram
POSTS = ("int_post_snapshots__instagram", "int_post_listing_gaps", "int_posts")


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
    select = ["run", "--select", "+int_posts", "+int_post_listing_gaps"]
    # a staging model the posts are not built from, built once here and not again: its mark
    # stays behind, and must not hold back what the post models take
    result = run_dbt([*select, "stg_instagram__stories"], db_url, tmp_path)
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
    # int_post_snapshots__instagram rebuilt the post with new captures (A1), int_posts every post
    # of A (its new complete round concerns them all); the other rows were kept as they were (same
    # writing transaction)
    for model, changed in (("int_post_snapshots__instagram", {"A1"}), ("int_posts", {"A1", "A2"})):
        kept = [row for row in before[model] if row[0]["post_id"] not in changed]
        assert kept and kept == [r for r in incremental[model] if r[0]["post_id"] not in changed]
        rebuilt = [row for row in incremental[model] if row[0]["post_id"] in changed]
        assert {row["post_id"] for row, _ in rebuilt} == changed, model
        assert not set(xmin for _, xmin in rebuilt) & set(x for _, x in before[model]), model

    # a staging model rewritten whole (its full refresh alone): the models built from it
    # rebuild everything on their next build, as they cannot know which posts it changed; the
    # Instagram captures are not built from TikTok's videos, and are kept
    result = run_dbt(["run", "--select", "stg_tiktok__videos", "--full-refresh"], db_url, tmp_path)
    assert result.returncode == 0, dbt_output(result)
    result = run_dbt(select, db_url, tmp_path)
    assert result.returncode == 0, dbt_output(result)
    with psycopg.connect(db_url) as conn:
        rewritten = posts_state(conn)
    for model in ("int_post_snapshots__instagram", "int_posts"):
        assert [row for row, _ in rewritten[model]] == [row for row, _ in incremental[model]]
    assert (
        rewritten["int_post_snapshots__instagram"] == incremental["int_post_snapshots__instagram"]
    )
    assert not {x for _, x in rewritten["int_posts"]} & {x for _, x in incremental["int_posts"]}

    result = run_dbt([*select, "--full-refresh"], db_url, tmp_path)
    assert result.returncode == 0, dbt_output(result)
    with psycopg.connect(db_url) as conn:
        full = posts_state(conn)
    for model in POSTS:
        assert [row for row, _ in incremental[model]] == [row for row, _ in full[model]], model


GOLD = (
    "post_sponsored_markers",
    # post_interests is a view of one table per platform; these accounts are on Instagram
    "post_interests__instagram",
    "fct_post_engagement",
    "influencer_interests",
    "fct_influencer_daily",
    "dim_influencers",
    "audience_segments",
    "influencer_quality_measures",
    "brand_influencer_fit",
)


# the account-incremental models of silver
SILVER = ("int_audience_demographics",)


def gold_state(conn) -> dict[str, list[tuple]]:
    """The account-incremental models' rows (gold's, and silver's), with the transaction that
    wrote each row."""
    return {
        model: conn.execute(
            f"select to_jsonb(t), xmin::text from {schema}.{model} as t order by to_jsonb(t)::text"
        ).fetchall()
        for schema, models in (("gold", GOLD), ("silver", SILVER))
        for model in models
    }


@pytest.mark.timeout(420)
def test_account_incremental_gold_rebuilds_the_changed_accounts_only(db_url, tmp_path):
    from analisa.cli.brands import save_brand
    from tests.integration.transforms.test_dbt_models import (
        at,
        ig_demographics,
        ig_item,
        ig_page,
        ig_profile,
    )

    def listing(account, day, items):
        return ig_page(account, f"{account}-r{day}", at(day, "08:00:00"), items, last=True)

    def followers(account, day, count):
        return ig_profile(
            account, f"u{account.lower()}", count, 10, 2, at(day, "07:00:00"), f"{account}-r{day}"
        )

    def ages(account, day, young, older):
        return ig_demographics(
            account,
            f"{account}-r{day}",
            at(day, "07:30:00"),
            ["age"],
            [(["18-24"], young), (["25-34"], older)],
        )

    posted = "2026-09-30T10:00:00+0000"
    with psycopg.connect(db_url) as conn:
        write_records(
            conn,
            [
                followers("A", 1, 1000),
                ages("A", 1, 300, 100),
                listing(
                    "A", 1, [ig_item("A1", posted, 3, likes=7, caption="Treino de hoje #fitness")]
                ),
                followers("B", 1, 500),
                ages("B", 1, 100, 100),
                listing(
                    "B", 1, [ig_item("B1", posted, 5, likes=20, caption="Receita #publi #food")]
                ),
            ],
        )
    select = [
        "build",
        "--select",
        "+influencer_interests",
        "+dim_influencers",
        "+influencer_quality",
        "+brand_influencer_fit",
    ]
    result = run_dbt(select, db_url, tmp_path)
    assert result.returncode == 0, dbt_output(result)
    with psycopg.connect(db_url) as conn:
        before = gold_state(conn)
        # day 2: A edits its caption into a sponsored one and gains followers; B is quiet
        write_records(
            conn,
            [
                followers("A", 2, 2000),
                ages("A", 2, 500, 500),
                listing("A", 2, [ig_item("A1", posted, 3, likes=9, caption="Treino #publi")]),
            ],
        )
    result = run_dbt(select, db_url, tmp_path)
    assert result.returncode == 0, dbt_output(result)
    with psycopg.connect(db_url) as conn:
        incremental = gold_state(conn)
        engagement = conn.execute(
            "select post_id, followers_at_capture, engagement_rate_followers, is_sponsored,"
            " sponsored_marker from gold.fct_post_engagement order by 1"
        ).fetchall()
        interests = conn.execute(
            "select account_id, interest, posts_with_interest from gold.influencer_interests"
            " order by 1, 2"
        ).fetchall()
        daily = conn.execute(
            "select account_id, day::text, followers from gold.fct_influencer_daily order by 1, 2"
        ).fetchall()
        marks = dict(
            conn.execute(
                "select relation_name, inputs_fingerprint is not null from ops.bronze_watermarks"
                " where relation_name like 'gold.%'"
            ).fetchall()
        )
        # where the rows each build wrote stand, for its tests: A's rows only
        written = dict(
            conn.execute(
                "select relation_name, cardinality(written_rows) from ops.bronze_watermarks"
                " where written_rows is not null"
            ).fetchall()
        )
    # A1: (9 likes + 3 comments) × 100 / 2,000 followers in force at its day-2 capture = 0.6
    assert engagement == [
        ("A1", 2000, Decimal("0.6000"), True, "#publi"),
        ("B1", 500, Decimal("5.0000"), True, "#publi"),
    ]
    # the edited caption lost #fitness ("treino" is a fitness term of the seed, so it stays)
    assert ("A", "fitness", 1) in interests and ("B", "food", 1) in interests
    assert daily == [("A", "2026-10-01", 1000), ("A", "2026-10-02", 2000), ("B", "2026-10-01", 500)]
    assert {f"gold.{model}" for model in GOLD} <= {name for name, has in marks.items() if has}
    # the rows day 2 wrote, recorded for the tests: A's only. Staging: A's new profile, listing
    # page, round, age capture (2 segments); silver: A1's two captures, A1, A's age rows (both
    # captures: its account's rows are copied again, B's kept); gold: A1's marker row, interest
    # and engagement row, A's two days, its influencer rows, its two age segments, its
    # fit with each of the 3 example brands; nothing for models of other endpoints
    assert written == {
        "silver.stg_instagram__account_snapshots": 1,
        "silver.stg_instagram__media": 1,
        "silver.stg_instagram__media_listing_rounds": 1,
        "silver.stg_instagram__audience_demographics": 2,
        "silver.stg_instagram__media_insights": 0,
        "silver.stg_instagram__media_object": 0,
        "silver.stg_tiktok__account_snapshots": 0,
        "silver.stg_tiktok__video_listing_rounds": 0,
        "silver.stg_tiktok__video_query": 0,
        "silver.stg_tiktok__videos": 0,
        "silver.int_post_snapshots__instagram": 2,
        "silver.int_post_snapshots__tiktok": 0,
        "silver.int_posts": 1,
        "silver.int_audience_demographics": 4,
        "gold.post_sponsored_markers": 1,
        "gold.post_interests__instagram": 1,
        "gold.post_interests__tiktok": 0,
        "gold.fct_post_engagement": 1,
        "gold.fct_influencer_daily": 2,
        "gold.influencer_interests": 1,
        "gold.audience_segments": 2,
        "gold.dim_influencers": 1,
        "gold.influencer_quality_measures": 1,
        "gold.brand_influencer_fit": 3,
    }
    for model in (*GOLD, *SILVER):
        # B's rows kept as they were (same writing transaction), A's written again
        def of(rows, account):
            return [r for r in rows if (r[0].get("account_id") or r[0]["post_id"][:1]) == account]

        kept = of(before[model], "B")
        assert kept and kept == of(incremental[model], "B"), model
        rebuilt = of(incremental[model], "A")
        old_xmins = {xmin for _, xmin in before[model]}
        assert rebuilt and not {xmin for _, xmin in rebuilt} & old_xmins, model

    # a brand added: its targets are part of brand_influencer_fit's inputs, so every influencer
    # is scored again, against every brand, although no account's data changed
    with psycopg.connect(db_url) as conn:
        workspace = conn.execute(
            "select workspace_id from ops.workspaces where name = 'default'"
        ).fetchone()[0]
        save_brand(conn, workspace, "Treinos", {"interest": ["fitness"]}, None, None, False)
        before = gold_state(conn)
    result = run_dbt(["build", "--select", "dim_brand_targets+"], db_url, tmp_path)
    assert result.returncode == 0, dbt_output(result)
    with psycopg.connect(db_url) as conn:
        incremental = gold_state(conn)
        overlap = conn.execute(
            "select account_id, interest_overlap, fit_score from gold.brand_influencer_fit"
            " where brand_name = 'Treinos' order by 1"
        ).fetchall()
    # A's one live post with an interest is a fitness one: 1/1; B's only one is food: 0/1
    assert overlap == [("A", Decimal("1.0000"), Decimal("100.00")), ("B", 0, 0)]
    fit_xmins = {xmin for _, xmin in before["brand_influencer_fit"]}
    assert not {xmin for _, xmin in incremental["brand_influencer_fit"]} & fit_xmins
    # A's ages: its day-2 capture only, 500 / (500 + 500)
    assert sorted(
        (row["account_id"], row["segment"], row["share"])
        for row, _ in incremental["audience_segments"]
    ) == [("A", "18-24", 0.5), ("A", "25-34", 0.5), ("B", "18-24", 0.5), ("B", "25-34", 0.5)]

    # the model's key is enforced by the database: a copy of A1's row is refused ...
    copy_a1 = (
        "insert into gold.post_sponsored_markers"
        " select * from gold.post_sponsored_markers where post_id = 'A1'"
    )
    with psycopg.connect(db_url) as conn, pytest.raises(psycopg.errors.UniqueViolation):
        conn.execute(copy_a1)
    # ... so its uniqueness test reads nothing while the index stands
    unique = "unique_combination_post_sponsored_markers_platform__post_id"
    result = run_dbt(["test", "--select", unique], db_url, tmp_path)
    assert result.returncode == 0, dbt_output(result)
    compiled = next((tmp_path / "target" / "compiled").rglob(f"{unique}*.sql")).read_text()
    assert "where false" in compiled
    # without the index, after an incremental build a data test reads the rows the build wrote
    # (and, for a uniqueness test, every row sharing their keys): a copy of A1's row is caught
    with psycopg.connect(db_url) as conn:
        (index,) = conn.execute(
            "select indexname from pg_indexes where schemaname = 'gold'"
            " and tablename = 'post_sponsored_markers' and indexdef like 'CREATE UNIQUE INDEX %'"
        ).fetchone()
        conn.execute(f'drop index gold."{index}"')
        conn.execute(copy_a1)
    result = run_dbt(["test", "--select", unique], db_url, tmp_path)
    assert result.returncode == 1 and "Got 1 result" in dbt_output(result)
    # ... a row no build wrote is left to the check of every row (var check_all_rows)
    with psycopg.connect(db_url) as conn:
        conn.execute("delete from gold.post_sponsored_markers where post_id = 'A1'")
        conn.execute("update gold.post_sponsored_markers set is_sponsored = null")
    # (the model's not-null test: one for all its required columns)
    not_null = "test_name:not_null_columns,post_sponsored_markers"
    result = run_dbt(["test", "--select", not_null], db_url, tmp_path)
    assert result.returncode == 0, dbt_output(result)
    result = run_dbt(
        ["test", "--select", not_null, "--vars", "{check_all_rows: true}"], db_url, tmp_path
    )
    assert result.returncode == 1 and "Got 1 result" in dbt_output(result)

    with psycopg.connect(db_url) as conn:
        conn.execute("truncate gold.post_sponsored_markers")
    result = run_dbt([*select, "--full-refresh"], db_url, tmp_path)
    assert result.returncode == 0, dbt_output(result)
    with psycopg.connect(db_url) as conn:
        full = gold_state(conn)
    for model in GOLD:
        assert [row for row, _ in incremental[model]] == [row for row, _ in full[model]], model
