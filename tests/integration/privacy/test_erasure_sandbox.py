"""Erasure of accounts collected from the (emulated) platforms: a connected TikTok creator whose
token the platform revokes, and a public Instagram creator read through a brand's Business
Discovery, who is not tracked again afterwards."""

from __future__ import annotations

import httpx
import psycopg
import pytest

from connectors.collection_run import run_collection
from connectors.public_creators import TrackError, login, track
from connectors.queue import InProcessQueue
from privacy.erase import Services, erase
from sandbox.consent import approve
from sandbox.world import SandboxConfig
from tests.integration.connectors.conftest import connect_world
from tests.integration.privacy.test_erasure import substring_hits


def test_connected_creator_token_revoked_and_collection_skips_them(db_url, monkeypatch):
    config = SandboxConfig(seed=5, influencers_per_platform=2, posts_per_influencer=6)
    sandbox, settings = connect_world(config, db_url, monkeypatch, align_clock=True)
    try:
        first = run_collection(settings, db_url, ("tiktok",), queue=InProcessQueue())
        assert first.stats.done == 2
        creator, other = sandbox.world.accounts("tiktok")[:2]
        with psycopg.connect(db_url) as conn:
            other_rows = conn.execute(
                "select count(*) from bronze.raw_records where account_id = %s",
                (other.account_id,),
            ).fetchone()[0]
            token = conn.execute(
                "select count(*) from ops.oauth_tokens where account_id = %s",
                (creator.account_id,),
            ).fetchone()[0]
        assert other_rows > 0 and token == 1
        grants = [
            g for g in sandbox.world.auth.tokens.values() if g.account_id == creator.account_id
        ]
        assert grants and not any(g.revoked for g in grants)

        report = erase(
            settings, db_url, "tiktok", creator.account_id, actor="os:test", services=Services()
        )
        assert report.clean, report
        assert report.token == "revoked at the platform and deleted"
        assert all(g.revoked for g in grants)  # the platform forgot the grant
        assert substring_hits(db_url, [creator.account_id]) == {}

        second = run_collection(settings, db_url, ("tiktok",), queue=InProcessQueue())
        assert second.stats.done == 1  # the other creator only
        with psycopg.connect(db_url) as conn:
            assert (
                conn.execute(
                    "select count(*) from bronze.raw_records where account_id = %s",
                    (other.account_id,),
                ).fetchone()[0]
                >= other_rows
            )
    finally:
        sandbox.stop()
    assert substring_hits(db_url, [creator.account_id]) == {}


def test_public_creator_erased_is_not_tracked_again(db_url, monkeypatch):
    config = SandboxConfig(seed=3, influencers_per_platform=2, posts_per_influencer=30)
    sandbox, settings = connect_world(config, db_url, monkeypatch)
    try:
        brand, creator = sandbox.world.accounts("instagram")[:2]
        with psycopg.connect(db_url) as conn, conn.transaction():
            conn.execute("delete from ops.accounts")
            conn.execute("delete from ops.oauth_tokens")
        with httpx.Client(timeout=30) as http:
            login(settings, http, db_url, lambda url: approve(http, url, brand.username))
            assert track(settings, http, db_url, creator.username) == creator.account_id
        run_collection(settings, db_url, ("instagram",), queue=InProcessQueue())
        with psycopg.connect(db_url) as conn:
            pages = conn.execute(
                "select count(*) from bronze.raw_records where account_id = %s",
                (creator.account_id,),
            ).fetchone()[0]
        assert pages >= 1

        report = erase(
            settings, db_url, "instagram", creator.account_id, actor="os:test", services=Services()
        )
        assert report.clean, report
        assert report.usernames_found == 1
        assert report.token == "no token held"
        assert substring_hits(db_url, [creator.account_id]) == {}
        with psycopg.connect(db_url) as conn:
            brand_login = conn.execute("select count(*) from ops.discovery_logins").fetchone()[0]
        assert brand_login == 1  # the brand's own login is not the creator's data

        with httpx.Client(timeout=30) as http, pytest.raises(TrackError, match="erased"):
            track(settings, http, db_url, "@" + creator.username.upper())
        again = run_collection(settings, db_url, ("instagram",), queue=InProcessQueue())
        assert again.stats.done == 0
    finally:
        sandbox.stop()
    assert substring_hits(db_url, [creator.account_id]) == {}
