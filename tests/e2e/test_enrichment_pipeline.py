"""The AI enrichment end to end: the sandbox plants two creators who post the same things in
other words; the pipeline runs first with the enrichment off (gold builds, keyword interests
only), then on: every caption is embedded and scored, gold gains model interests beside the
unchanged keyword rows and a sentiment per caption, and the lookalike search (`analisa similar`)
finds each twin first."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import psycopg
import pytest
from typer.testing import CliRunner

import connectors.http
from analisa.cli import app
from analisa.cli.sandbox_accounts import connect_sandbox_accounts
from analisa.core.crypto import TokenVault
from analisa.core.settings import get_settings
from connectors.token_store import save_token
from enrichment.lookalike import similar
from enrichment.model import LIBRARY, library_installed
from orchestration.defs.collection.assets import BRONZE_KEYS
from orchestration.lib.resources import AnalisaResource
from orchestration.run import run_job
from sandbox.server import SandboxServer
from sandbox.world import SandboxConfig
from sandbox.world import twins as t

pytestmark = pytest.mark.skipif(
    not library_installed(), reason=f"{LIBRARY} not installed (pip install -e '.[enrichment]')"
)

KEYWORD_ROWS = (
    "select platform, post_id, interest, matched_terms, terms_matched, is_deleted"
    " from gold.post_interests where method = 'keyword' order by 1, 2, 3"
)


def _all(conn, sql, *args):
    return conn.execute(sql, args).fetchall()


@pytest.mark.timeout(900)
def test_enrichment_off_then_on_and_the_twin_found_first(pipeline_env, queue_prefix, monkeypatch):
    db_url = pipeline_env
    config = SandboxConfig(
        seed=11,
        influencers_per_platform=2,
        posts_per_influencer=12,
        start=datetime(2026, 10, 1, tzinfo=UTC),
        planted_twins=True,
    )
    analisa = AnalisaResource(queue_prefix=queue_prefix)
    monkeypatch.setenv("ANALISA_ENRICHMENT", "off")
    with SandboxServer(config) as sandbox:
        for key, value in sandbox.settings_overrides().items():
            monkeypatch.setenv(key, value)
        get_settings.cache_clear()
        settings = get_settings()
        world = sandbox.world
        monkeypatch.setattr(connectors.http, "utcnow", world.now)
        with httpx.Client(timeout=30) as http:
            connected = connect_sandbox_accounts(settings, http)
        vault = TokenVault(settings.vault_key.get_secret_value())
        with psycopg.connect(db_url) as conn, conn.transaction():
            for c in connected:
                save_token(conn, vault, c.token, username=c.username)
        collected = run_job(
            "collect_and_build", analisa=analisa, collect=True, selection=list(BRONZE_KEYS.values())
        )
        assert collected.success, collected.errors + collected.failed_checks
        off = run_job("build_from_bronze", analisa=analisa)
        assert off.success, off.errors + off.failed_checks
        ids = {a.username: a.account_id for a in world.accounts("instagram")}

    with psycopg.connect(db_url) as conn:
        assert _all(conn, "select count(*) from silver.caption_embeddings") == [(0,)]
        assert _all(conn, "select distinct method from gold.post_interests") == [("keyword",)]
        assert _all(
            conn,
            "select count(*) from gold.fct_post_engagement where caption_sentiment is not null",
        ) == [(0,)]
        assert _all(conn, "select count(*) from gold.influencer_caption_sentiment") == [(0,)]
        keyword_rows = _all(conn, KEYWORD_ROWS)
        assert keyword_rows  # the sandbox's captions hold taxonomy terms
        captioned = _all(
            conn,
            "select count(*) from silver.int_posts where caption is not null"
            " and btrim(caption) <> ''",
        )[0][0]

    monkeypatch.setenv("ANALISA_ENRICHMENT", "on")
    on = run_job("build_from_bronze", analisa=analisa)
    assert on.success, on.errors + on.failed_checks

    with psycopg.connect(db_url) as conn:
        assert _all(conn, "select count(*) from silver.caption_embeddings") == [(captioned,)]
        # every captioned post has a sentiment in gold, and only those
        assert _all(
            conn,
            "select count(*) filter (where caption_sentiment is not null),"
            " count(*) filter (where caption_sentiment is null and caption is not null"
            " and btrim(caption) <> '')"
            " from gold.fct_post_engagement",
        ) == [(captioned, 0)]
        # keyword rows exactly as with the enrichment off; model rows beside them
        assert _all(conn, KEYWORD_ROWS) == keyword_rows
        embedding = _all(
            conn,
            "select count(*), min(score), max(score), max(interest_rank)"
            " from gold.post_interests where method = 'embedding'",
        )[0]
        assert embedding[0] > 0 and 0.3 <= embedding[1] <= embedding[2] <= 1 and embedding[3] <= 3
        shares = _all(
            conn,
            "select posts_scored, posts_positive + posts_neutral + posts_negative,"
            " positive_share + neutral_share + negative_share"
            " from gold.influencer_caption_sentiment",
        )
        assert shares and all(n == parts and abs(total - 1) <= 0.0002 for n, parts, total in shares)
        methods = {
            m for (m,) in _all(conn, "select distinct method from gold.influencer_interests")
        }
        assert "keyword" in methods or "keyword+embedding" in methods

        for one, other in ((t.ORIGINAL, t.TWIN), (t.TWIN, t.ORIGINAL)):
            found = similar(conn, "instagram", ids[one], limit=5)
            assert found[0].account_id == ids[other], (one, found)
            assert found[0].similarity > found[1].similarity

    monkeypatch.setenv("COLUMNS", "200")  # a wide terminal: one line per creator
    shown = CliRunner().invoke(app, ["similar", "instagram", ids[t.ORIGINAL], "--limit", "3"])
    assert shown.exit_code == 0, shown.output
    rows = [line for line in shown.output.splitlines() if line.lstrip().startswith("│")]
    assert ids[t.TWIN] in rows[0] and rows[0].split("│")[1].strip() == "1", shown.output
    refused = CliRunner().invoke(app, ["similar", "myspace", "x"])
    assert refused.exit_code != 0 and "unknown platform" in refused.output
