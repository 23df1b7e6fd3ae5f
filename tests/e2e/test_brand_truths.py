"""What brands pay for, end to end: the sandbox plants known truths (a follower spike, engagement
far outside its size tier, sponsored posts with disclosure markers, an audience inside a brand's
target exactly, a fitness-only creator), eight daily collection rounds stamp captures with the
platform's time, a brand is added with `analisa brands add`, and gold finds each truth."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import psycopg
import pytest
from typer.testing import CliRunner

import connectors.http
from analisa.cli import app
from analisa.cli.sandbox_accounts import connect_sandbox_accounts
from analisa.cli.summary import considered_influencers
from analisa.core.crypto import TokenVault
from analisa.core.settings import get_settings
from connectors.token_store import save_token
from orchestration.defs.collection.assets import BRONZE_KEYS
from orchestration.lib.resources import AnalisaResource
from orchestration.run import run_job
from sandbox.server import SandboxServer
from sandbox.world import SandboxConfig
from sandbox.world import planted as p

START = datetime(2026, 10, 1, tzinfo=UTC)
ROUNDS = 8  # days 0..7: seven daily follower changes, and a 7-day growth on the last day
BRAND = "Planted Target"


def truth_rows(conn, sql, *args):
    cur = conn.execute(sql, args)
    names = [d.name for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


@pytest.mark.timeout(900)
def test_gold_finds_every_planted_truth(pipeline_env, queue_prefix, monkeypatch):
    db_url = pipeline_env
    config = SandboxConfig(
        seed=11,
        influencers_per_platform=2,
        posts_per_influencer=12,
        start=START,
        planted_truths=True,
    )
    analisa = AnalisaResource(queue_prefix=queue_prefix)
    followers_by_round: dict[str, list[int]] = {}
    with SandboxServer(config) as sandbox:
        for key, value in sandbox.settings_overrides().items():
            monkeypatch.setenv(key, value)
        get_settings.cache_clear()
        settings = get_settings()
        world = sandbox.world
        # captures carry the platform's time, a day apart per round (the collector stamps
        # fetched_at with the project's clock; gold measures windows from those captures)
        monkeypatch.setattr(connectors.http, "utcnow", world.now)
        with httpx.Client(timeout=30) as http:
            connected = connect_sandbox_accounts(settings, http)
        vault = TokenVault(settings.vault_key.get_secret_value())
        with psycopg.connect(db_url) as conn, conn.transaction():
            for c in connected:
                save_token(conn, vault, c.token, username=c.username)

        for n in range(ROUNDS):
            outcome = run_job(
                "collect_and_build",
                analisa=analisa,
                collect=True,
                selection=list(BRONZE_KEYS.values()),
            )
            assert outcome.success, outcome.errors + outcome.failed_checks
            for account in world.accounts("instagram"):
                followers_by_round.setdefault(account.username, []).append(account.followers)
            if n < ROUNDS - 1:
                world.advance()

        added = CliRunner().invoke(
            app,
            [
                "brands",
                "add",
                BRAND,
                "--age",
                p.MATCH_TARGET["age"],
                "--gender",
                p.MATCH_TARGET["gender"],
                "--country",
                p.MATCH_TARGET["country"],
                "--city",
                p.MATCH_TARGET["city"],
                "--followers-min",
                "10000",
            ],
        )
        assert added.exit_code == 0, added.output
        built = run_job("build_from_bronze", analisa=analisa)
        assert built.success, built.errors + built.failed_checks

        ids = {a.username: a.account_id for a in world.accounts("instagram")}
        sponsor_posts = world.all_posts("instagram", ids[p.SPONSOR])

    with psycopg.connect(db_url) as conn:
        quality = {
            r["username"]: r
            for r in truth_rows(conn, "select * from gold.influencer_quality")
            if r["platform"] == "instagram"
        }
        interests = truth_rows(
            conn,
            "select account_id, interest, share from gold.influencer_interests "
            "where account_id = %s",
            ids[p.FITNESS],
        )
        sponsored = truth_rows(
            conn,
            "select post_id, sponsored_marker from gold.fct_post_engagement "
            "where is_sponsored and platform = 'instagram'",
        )
        sponsor_rows = truth_rows(
            conn,
            "select post_id, is_sponsored, is_deleted from gold.fct_post_engagement "
            "where account_id = %s",
            ids[p.SPONSOR],
        )
        dims = {
            r["username"]: r
            for r in truth_rows(conn, "select * from gold.dim_influencers")
            if r["platform"] == "instagram"
        }
        fits = truth_rows(
            conn,
            "select username, fit_score, age_share_in_target, gender_share_in_target, "
            "country_share_in_target, city_share_in_target, size_fit, fit_confidence, platform "
            "from gold.brand_influencer_fit where brand_name = %s "
            "order by fit_score desc nulls last, username",
            BRAND,
        )
        spike_days = truth_rows(
            conn,
            "select day, followers from gold.fct_influencer_daily where account_id = %s "
            "order by day",
            ids[p.SPIKE],
        )
        considered = considered_influencers(conn, limit=50)

    # a follower spike: flagged for planted.spike on the day of the planted epoch, nowhere else
    spike = quality[p.SPIKE]
    assert spike["follower_spike_flag"] is True
    assert (
        spike["follower_spike_day"] == (START + timedelta(days=config.planted_spike_epoch)).date()
    )
    assert spike["follower_spike_gain_pct"] > 45
    assert spike["quality_score"] < 100 and spike["insufficient_data"] is False
    assert {u for u, r in quality.items() if r["follower_spike_flag"]} == {p.SPIKE}
    # one row per day, each with the followers the platform had that day
    truth = followers_by_round[p.SPIKE]
    assert [(r["day"], r["followers"]) for r in spike_days] == [
        ((START + timedelta(days=d)).date(), truth[d]) for d in range(ROUNDS)
    ]
    # the latest growth figures reach dim_influencers: day 7 against day 0
    assert dims[p.SPIKE]["followers_growth_7d"] == truth[7] - truth[0]
    expected_pct = (Decimal(truth[7] - truth[0]) * 100 / truth[0]).quantize(Decimal("0.0001"))
    assert dims[p.SPIKE]["followers_growth_7d_pct"] == expected_pct
    assert dims[p.SPIKE]["followers_growth_30d"] is None
    assert "history too short" in dims[p.SPIKE]["followers_growth_30d_null_reason"]

    # engagement far outside its tier: planted.outlier against the micro tier, and only it
    outlier = quality[p.OUTLIER]
    assert outlier["tier"] == "micro" and outlier["tier_accounts"] >= 5
    assert outlier["engagement_vs_tier"] > outlier["engagement_vs_tier_threshold"]
    assert outlier["engagement_vs_tier_flag"] is True
    planted_names = {plant.username for plant in p.PLANTS}
    assert {u for u in planted_names if quality[u]["engagement_vs_tier_flag"]} == {p.OUTLIER}

    # sponsored posts: exactly planted.sponsor's posts with a marker, each marker kept
    expected_markers = {}
    for post in sponsor_posts:
        caption = (post.caption or "").lower()
        for marker in ("#publi", "parceria paga", "#ad"):
            if marker in caption.split() or (" " in marker and marker in caption):
                expected_markers[post.post_id] = marker
    assert {r["post_id"]: r["sponsored_marker"] for r in sponsored} == expected_markers
    assert set(expected_markers.values()) == {"#publi", "parceria paga", "#ad"}
    # per influencer, over the posts gold holds live (deletions are confirmed by probes, which
    # these collection-only rounds do not ask for)
    sponsor = dims[p.SPONSOR]
    live = [r for r in sponsor_rows if not r["is_deleted"]]
    live_sponsored = sum(1 for r in live if r["is_sponsored"])
    assert live_sponsored >= 3
    assert sponsor["sponsored_posts"] == live_sponsored
    assert sponsor["sponsored_share"] == (Decimal(live_sponsored) / len(live)).quantize(
        Decimal("0.0001")
    )
    # sponsored posts were planted at half an organic post's interactions
    assert sponsor["sponsored_engagement_ratio"] < Decimal("0.8")

    # an audience inside the brand's target exactly: fit 100, every component whole
    # (a creator without demographics, TikTok's, scores on what is known, with low confidence)
    (match,) = [f for f in fits if f["username"] == p.MATCH]
    assert match["fit_score"] == Decimal("100.00")
    assert [match[c] for c in list(match)[2:-1]] == [Decimal(1)] * 6
    full = [f["username"] for f in fits if f["fit_confidence"] == 1 and f["fit_score"] == 100]
    assert full == [p.MATCH]
    tiktok = [f for f in fits if f["platform"] == "tiktok"]
    assert tiktok and all(f["fit_confidence"] < 1 for f in tiktok)

    # a fitness-only creator: one interest, all its posts with a topic
    assert [(r["interest"], r["share"]) for r in interests] == [("fitness", Decimal("1.0000"))]

    # the brand manager's list: handles, none read the same, the small accounts left out
    handles = [c.handle for c in considered]
    assert len(handles) == len(set(handles))
    assert planted_names <= set(handles)
    assert all(int(c.followers.replace(",", "")) >= 1000 for c in considered)
