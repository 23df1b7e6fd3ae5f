"""A brand connects through Facebook Login, tracks a creator who never connected, and the whole
pipeline collects that creator through Business Discovery: gold holds the public counts and
posts, and says which metrics cannot exist for a public creator instead of zeros."""

from __future__ import annotations

import psycopg
from typer.testing import CliRunner

from analisa.cli import app
from analisa.core.settings import get_settings
from sandbox.server import SandboxServer
from sandbox.world import SandboxConfig


def test_business_discovery_track_reaches_gold_with_unavailable_metrics(pipeline_env, monkeypatch):
    config = SandboxConfig(seed=3, influencers_per_platform=2, posts_per_influencer=6)
    with SandboxServer(config) as sandbox:
        for key, value in sandbox.settings_overrides().items():
            monkeypatch.setenv(key, value)
        get_settings.cache_clear()
        brand, creator = sandbox.world.accounts("instagram")[:2]
        runner = CliRunner()

        untracked = runner.invoke(app, ["track", "instagram", creator.username])
        assert untracked.exit_code == 1
        assert "run analisa track login first" in untracked.output

        login = runner.invoke(app, ["track", "login", "--login-as", brand.username])
        assert login.exit_code == 0, login.output
        assert f"Instagram business account {brand.account_id}" in login.output

        tracked = runner.invoke(app, ["track", "instagram", creator.username])
        assert tracked.exit_code == 0, tracked.output
        assert f"public, id {creator.account_id}" in tracked.output

        collected = runner.invoke(app, ["collect"])
        assert collected.exit_code == 0, collected.output
        live = sandbox.world.live_posts("instagram", creator.account_id)

    with psycopg.connect(pipeline_env) as conn:
        (row,) = conn.execute(
            "select account_id, access, metrics_unavailable, followers, posts_count, "
            "audience_coverage from gold.dim_influencers"
        ).fetchall()
        posts = conn.execute(
            "select count(*), count(reach) from gold.fct_post_engagement where account_id = %s",
            (creator.account_id,),
        ).fetchone()
        # each public post names what it lacks, and why
        named = conn.execute(
            "select access, metrics_unavailable, metrics_unavailable_reason, count(*) "
            "from gold.fct_post_engagement where account_id = %s and not likes_hidden "
            "group by 1, 2, 3",
            (creator.account_id,),
        ).fetchall()
        ledger = conn.execute("select outcome, count(*) from bronze.collection_ledger group by 1")
        ledger = ledger.fetchall()
        listed = runner.invoke(app, ["accounts", "list"])
    account_id, access, unavailable, followers, posts_count, coverage = row
    assert (account_id, access) == (creator.account_id, "public")
    assert unavailable == "reach, insights (saved, shares, views, total_interactions), demographics"
    assert (followers, posts_count) == (creator.followers, creator.posts)
    assert coverage is None  # no demographics: marked unavailable, never zero
    assert posts == (len(live), 0)  # every public post, none with a reach
    assert named == [
        (
            "public",
            "shares, views, reach, saved, total_interactions",
            "public creator: Business Discovery gives no insights",
            sum(1 for p in live if not p.likes_hidden),
        )
    ]
    assert ledger == [("done", 1)]
    assert "public" in listed.output
