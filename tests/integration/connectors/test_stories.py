"""Stories in a collection round: listed with their insights while they live, skipped (not
failed) for an account that withholds them, and never posts: an expired story is never probed,
never in the post tables and never deleted."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest

from connectors.collection_run import run_collection
from connectors.queue import InProcessQueue
from sandbox.world import SandboxConfig
from tests.integration.connectors.conftest import connect_world
from tests.integration.transforms.dbt_fixtures import dbt_output, run_dbt


def _stories_bronze(db_url, account_id):
    with psycopg.connect(db_url) as conn:
        listed = conn.execute(
            "select s.value ->> 'id' from bronze.instagram_stories b, "
            "jsonb_array_elements(b.body -> 'data') s where b.account_id = %s "
            "order by b.record_id",
            (account_id,),
        ).fetchall()
        insights = conn.execute(
            "select object_id, http_status, body -> 'error' ->> 'code' "
            "from bronze.instagram_story_insights where account_id = %s order by record_id",
            (account_id,),
        ).fetchall()
    return [r[0] for r in listed], insights


def test_a_round_collects_live_stories_and_an_account_without_them_is_collected_otherwise(
    db_url, monkeypatch
):
    config = SandboxConfig(seed=5, influencers_per_platform=2, posts_per_influencer=3)
    sandbox, settings = connect_world(config, db_url, monkeypatch)
    try:
        world = sandbox.world
        granted, withheld = sorted(world.accounts("instagram"), key=lambda a: -a.followers)
        world.refuse_stories(withheld.account_id)
        live = world.live_stories(granted.account_id)
        summary = run_collection(settings, db_url, ("instagram",), queue=InProcessQueue())
    finally:
        sandbox.stop()
    assert (summary.stats.done, summary.stats.parked) == (2, 0)

    listed, insights = _stories_bronze(db_url, granted.account_id)
    assert len(live) == 2  # seed 5, at the sandbox's start
    assert listed == [s.story_id for s in live]
    # each live story's insights once; under five viewers the platform refuses them (error 10)
    assert [(i, s, c) for i, s, c in insights] == [
        (s.story_id, 200, None) if s.reach >= 5 else (s.story_id, 400, "10") for s in live
    ]

    listed, insights = _stories_bronze(db_url, withheld.account_id)
    with psycopg.connect(db_url) as conn:
        refused = conn.execute(
            "select http_status, body -> 'error' ->> 'code' from bronze.instagram_stories "
            "where account_id = %s",
            (withheld.account_id,),
        ).fetchall()
        endpoints = conn.execute(
            "select endpoint, count(*) from bronze.raw_records where account_id = %s "
            "and http_status = 200 group by 1 order by 1",
            (withheld.account_id,),
        ).fetchall()
        ledger = conn.execute(
            "select outcome, detail from bronze.collection_ledger where account_id = %s",
            (withheld.account_id,),
        ).fetchall()
    assert (listed, insights, refused) == ([], [], [(400, "10")])
    # the rest of its round: profile, one page, three posts' insights, five breakdowns
    assert endpoints == [("media", 1), ("media_insights", 3), ("user", 1), ("user_insights", 5)]
    assert ledger == [("done", "skipped 1: stories: permission 10")]


@pytest.mark.timeout(300)
def test_expired_stories_are_never_deleted_posts_and_gold_counts_them_per_day(
    db_url, monkeypatch, tmp_path
):
    config = SandboxConfig(
        seed=5,
        influencers_per_platform=1,
        low_follower_accounts=0,
        posts_per_influencer=3,
        deletions_per_advance=0,
    )
    # the sandbox's own clock (not aligned to today): the same stories on every run
    sandbox, settings = connect_world(config, db_url, monkeypatch)
    try:
        world = sandbox.world
        (account,) = world.accounts("instagram")
        first = world.live_stories(account.account_id)
        run_collection(settings, db_url, ("instagram",), queue=InProcessQueue())
        world.move_clock(timedelta(hours=25))  # every story of the first round expired
        world.advance()  # a day of data: posts grow, none deleted
        second = world.live_stories(account.account_id)
        with psycopg.connect(db_url) as conn, conn.transaction():
            conn.execute("update ops.account_state set next_due_at = now()")
        run_collection(settings, db_url, ("instagram",), queue=InProcessQueue())
    finally:
        sandbox.stop()
    stories = {s.story_id: s for s in first + second}
    assert first and second and len(stories) == len(first) + len(second)

    # silver, the posts' deletion detection and gold, as a build makes them
    result = run_dbt(
        ["build", "--select", "+int_posts_to_probe", "+fct_influencer_stories_daily"],
        db_url,
        tmp_path,
        timeout=240,
    )
    assert result.returncode == 0, dbt_output(result)
    ids = list(stories)
    with psycopg.connect(db_url) as conn:
        in_silver = conn.execute(
            "select count(distinct story_id) from silver.stg_instagram__stories"
        ).fetchone()[0]
        as_posts = conn.execute(
            "select count(*) from silver.int_posts where post_id = any(%s)", (ids,)
        ).fetchone()[0]
        deleted = conn.execute("select count(*) from silver.int_posts where is_deleted").fetchone()[
            0
        ]
        to_probe = conn.execute("select count(*) from silver.int_posts_to_probe").fetchone()[0]
        daily = conn.execute(
            "select day, stories_posted, stories_with_insights, reach "
            "from gold.fct_influencer_stories_daily order by day"
        ).fetchall()
    # the first round's stories vanished from the second listing: expired, never deleted posts
    assert in_silver == len(stories)
    assert (as_posts, deleted, to_probe) == (0, 0, 0)
    # gold: each story once, on its posting day, with its latest reach (the sandbox's truth)
    expected: dict = {}
    for story in stories.values():
        day = expected.setdefault(story.timestamp.date(), [0, 0, 0])
        day[0] += 1
        day[1] += 1
        day[2] += story.reach
    assert daily == [
        (day, n, with_insights, reach)
        for day, (n, with_insights, reach) in sorted(expected.items())
    ]
