"""Public creators through the sandbox's Facebook Login and Business Discovery: the brand logs
in, a creator is tracked by username and collected page by page under the app's limit."""

from __future__ import annotations

import httpx
import psycopg

from connectors.collection_run import run_collection
from connectors.public_creators import TrackError, login, track
from connectors.queue import InProcessQueue
from sandbox.consent import approve
from sandbox.world import SandboxConfig
from tests.integration.connectors.conftest import connect_world


def test_login_track_and_collect_a_public_creator(db_url, monkeypatch):
    config = SandboxConfig(seed=3, influencers_per_platform=2, posts_per_influencer=120)
    sandbox, settings = connect_world(config, db_url, monkeypatch)
    try:
        brand, creator = sandbox.world.accounts("instagram")[:2]
        with psycopg.connect(db_url) as conn, conn.transaction():
            conn.execute("delete from ops.accounts")  # nobody connected: public creators only
            conn.execute("delete from ops.oauth_tokens")
        with httpx.Client(timeout=30) as http:
            try:
                track(settings, http, db_url, creator.username)
            except TrackError as exc:
                assert "track login" in str(exc)
            found = login(settings, http, db_url, lambda url: approve(http, url, brand.username))
            assert found.business_account_id == brand.account_id
            assert track(settings, http, db_url, "@" + creator.username) == creator.account_id
        summary = run_collection(settings, db_url, ("instagram",), queue=InProcessQueue())
        live = len(sandbox.world.live_posts("instagram", creator.account_id))
    finally:
        sandbox.stop()
    assert (summary.stats.done, summary.stats.parked) == (1, 0)
    with psycopg.connect(db_url) as conn:
        pages = conn.execute(
            "select body -> 'business_discovery' ? 'followers_count', "
            "jsonb_array_length(body -> 'business_discovery' -> 'media' -> 'data') "
            "from bronze.raw_records where account_id = %s and endpoint = 'user' "
            "order by record_id",
            (creator.account_id,),
        ).fetchall()
        kind = conn.execute(
            "select kind, last_success_at is not null from ops.account_state"
        ).fetchall()
    # the first page carries the counts, the next ones media only; 50 media per page
    assert pages[0][0] is True and all(p[0] is False for p in pages[1:])
    assert [p[1] for p in pages] == [50, 50, live - 100]
    assert kind == [("public", True)]
