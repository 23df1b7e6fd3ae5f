"""The whole pipeline on a small sandbox world, through the real broker and cache: OAuth connect,
two collection rounds (the world moves on between: metrics grow, posts are deleted, TikTok
tokens expire and are refreshed), a truncated response kept and reported, and gold compared
with values computed here from the sandbox's own truth."""

import statistics
from decimal import ROUND_HALF_UP, Decimal

import httpx
import psycopg
import pytest
import redis

from analisa.cli.sandbox_accounts import connect_sandbox_accounts
from analisa.core.crypto import TokenVault
from analisa.core.gold_version import read_gold_version
from analisa.core.settings import get_settings
from connectors.token_store import save_token
from exports.parquet import read_manifest, read_table
from orchestration.defs.collection.assets import BRONZE_KEYS
from orchestration.lib.resources import AnalisaResource
from orchestration.run import run_job
from sandbox.server import SandboxServer
from sandbox.world import SandboxConfig

Q = Decimal("0.0001")


def rate(numerator: int, denominator: int) -> Decimal:
    return (Decimal(numerator) * 100 / Decimal(denominator)).quantize(Q, ROUND_HALF_UP)


@pytest.fixture
def services(pipeline_env, amqp_url, redis_url, redis_prefix, monkeypatch):
    monkeypatch.setenv("AMQP_URL", amqp_url)
    monkeypatch.setenv("REDIS_URL", redis_url)
    # every round is a complete one (all insights, demographics, a complete listing), so gold
    # can be compared with the sandbox's truth of the moment; the slower cadences of older
    # posts and demographics are tested in tests/integration/connectors/test_budgets.py
    monkeypatch.setenv("ANALISA_OLD_INSIGHTS_EVERY_SECONDS", "1")
    monkeypatch.setenv("ANALISA_FULL_LISTING_EVERY_SECONDS", "1")
    get_settings.cache_clear()
    return pipeline_env, redis_url, redis_prefix


def test_sandbox_to_gold_through_rabbitmq_and_redis(services, queue_prefix, monkeypatch, tmp_path):
    db_url, redis_url, redis_prefix = services
    config = SandboxConfig(seed=11, influencers_per_platform=2, posts_per_influencer=6)
    analisa = AnalisaResource(queue_prefix=queue_prefix, redis_prefix=redis_prefix)
    with SandboxServer(config) as sandbox:
        for key, value in sandbox.settings_overrides().items():
            monkeypatch.setenv(key, value)
        get_settings.cache_clear()
        settings = get_settings()
        world = sandbox.world
        with httpx.Client(timeout=30) as http:
            connected = connect_sandbox_accounts(settings, http)
        vault = TokenVault(settings.vault_key.get_secret_value())
        with psycopg.connect(db_url) as conn, conn.transaction():
            for c in connected:
                save_token(conn, vault, c.token, username=c.username)
        assert len(connected) == 4

        world.inject_fault("instagram", "media_insights", "truncated_json", count=1)
        first = run_job(
            "collect_and_build",
            analisa=analisa,
            collect=True,
            selection=list(BRONZE_KEYS.values()),
        )
        assert first.success, first.errors + first.failed_checks
        assert any("instagram_media_insights:malformed_responses" in w for w in first.warnings)
        seen_round1 = {
            p: {
                post.post_id
                for a in world.accounts(p)
                for post in world.live_posts(p, a.account_id)
            }
            for p in ("instagram", "tiktok")
        }

        world.advance()  # a day later: growth, one deletion and one new post per influencer
        second = run_job("collect_and_build", analisa=analisa, collect=True)
        assert second.success, second.errors + second.failed_checks
        with psycopg.connect(db_url) as conn:
            to_probe = {
                (r[0], r[1])
                for r in conn.execute("select platform, post_id from silver.int_posts_to_probe")
            }
        # that round's complete listings no longer hold the deleted posts: silver asks for a
        # probe of exactly those, the next round makes it, and gold then flags them
        assert to_probe == {
            (p, post_id)
            for p in ("instagram", "tiktok")
            for post_id in world.deleted_post_ids(p) & seen_round1[p]
        }
        final = run_job("collect_and_build", analisa=analisa, collect=True)
        assert final.success, final.errors + final.failed_checks
        assert "exports/gold_parquet" in final.materialized

        with psycopg.connect(db_url) as conn:
            gold = {
                (r[0], r[1]): r[2:]
                for r in conn.execute(
                    "select platform, post_id, likes, comments, shares, followers_at_capture, "
                    "engagement_rate_followers, likes_hidden, is_deleted from gold.fct_post_engagement"
                )
            }
            influencers = {
                (r[0], r[1]): r[2:]
                for r in conn.execute(
                    "select platform, account_id, followers, posts_count, median_engagement_rate, "
                    "mean_engagement_rate from gold.dim_influencers"
                )
            }
            ages = conn.execute(
                "select account_id, segment, share from gold.audience_segments "
                "where dimension = 'age'"
            ).fetchall()
            malformed = conn.execute(
                "select count(*) from bronze.raw_records where parse_error is not null"
            ).fetchone()[0]
            quarantined = conn.execute(
                "select endpoint, reason from silver.quarantine_records"
            ).fetchall()
            ledger = conn.execute(
                "select outcome, count(*) from bronze.collection_ledger group by 1 order by 1"
            ).fetchall()

        expected_posts = 0
        for platform in ("instagram", "tiktok"):
            for account in world.accounts(platform):
                live = world.live_posts(platform, account.account_id)
                rates = []
                for post in live:
                    if platform == "instagram":
                        likes = None if post.likes_hidden else post.like_count
                        comments, shares = post.comments_count, post.shares
                    else:
                        likes, comments, shares = (
                            post.like_count,
                            post.comment_count,
                            post.share_count,
                        )
                    expected_rate = rate((likes or 0) + comments + shares, account.followers)
                    assert gold[(platform, post.post_id)] == (
                        likes,
                        comments,
                        shares,
                        account.followers,
                        expected_rate,
                        likes is None,
                        False,
                    ), (platform, post.post_id)
                    rates.append(expected_rate)
                deleted = (
                    world.deleted_post_ids(platform, account.account_id) & seen_round1[platform]
                )
                assert len(deleted) == config.deletions_per_advance
                for post_id in deleted:
                    assert gold[(platform, post_id)][-1] is True  # is_deleted
                expected_posts += len(live) + len(deleted)

                followers, posts_count, median, mean = influencers[(platform, account.account_id)]
                assert (followers, posts_count) == (account.followers, len(live))
                assert mean == (sum(rates) / len(rates)).quantize(Q, ROUND_HALF_UP)
                assert abs(median - Decimal(statistics.median(rates))) <= Q
        assert len(gold) == expected_posts

        # audience shares: the sandbox's age counts over their total, for accounts with ≥ 100 followers
        expected_ages = {}
        for account in world.accounts("instagram"):
            counts = world.demographics(account.account_id, "age")
            total = sum(n for _, n in counts)
            for (band,), n in counts:
                expected_ages[(account.account_id, band)] = n / total
        assert {(a, s): float(v) for a, s, v in ages} == pytest.approx(expected_ages, abs=1e-9)
        assert any(a.followers < 100 for a in world.accounts("instagram"))

    # the truncated answer is kept and quarantined, not dropped; the runs went on
    assert malformed == 1
    assert [(e, r) for e, r in quarantined if "JSON" in r] == [
        ("media_insights", quarantined[0][1])
    ]
    # 4 accounts × 3 rounds done; TikTok tokens expired after the advance: refreshed and retried
    assert dict(ledger) == {"done": 12, "retry": 2}
    # gold passed its gate in both builds: the API cache version was bumped twice, Parquet
    # matches gold
    assert read_gold_version(redis.Redis.from_url(redis_url), redis_prefix) == 2
    exported = read_table(str(tmp_path / "exports"), "fct_post_engagement")
    assert exported.num_rows == expected_posts
    # the export ran after the bump: its manifest names the gold it holds
    assert read_manifest(str(tmp_path / "exports"))["gold_version"] == 2
