"""Erasure after real collection: the sandbox's creators connected, two collection rounds through
RabbitMQ into gold, Parquet exports and cached API answers in Redis; then `analisa erase` of one
Instagram creator, an independent search of every table and export file, and a third round that
collects the others and nothing of them."""

import json
from pathlib import Path

import httpx
import psycopg
import pyarrow.parquet as pq
import redis
from typer.testing import CliRunner

from analisa.cli import app
from analisa.cli.sandbox_accounts import connect_sandbox_accounts
from analisa.core.crypto import TokenVault
from analisa.core.settings import get_settings
from connectors.token_store import save_token
from exports.parquet import export_gold
from orchestration.lib.resources import AnalisaResource
from orchestration.run import run_job
from sandbox.server import SandboxServer
from sandbox.world import SandboxConfig
from tests.integration.privacy.test_erasure import substring_hits


def _export_rows_naming(root: Path, needles: list[str]) -> int:
    n = 0
    for path in root.rglob("*.parquet"):
        for row in pq.read_table(path).to_pylist():
            text = json.dumps(row, default=str, ensure_ascii=False).lower()
            n += any(needle.lower() in text for needle in needles)
    return n


def _others(db_url: str, account_id: str) -> dict[str, int]:
    with psycopg.connect(db_url) as conn:
        return {
            table: conn.execute(
                f"select count(*) from gold.{table} where account_id <> %s", (account_id,)
            ).fetchone()[0]
            for table in ("dim_influencers", "fct_post_engagement", "audience_segments")
        }


def test_erase_a_collected_creator_everywhere(
    pipeline_env, amqp_url, redis_url, redis_prefix, queue_prefix, monkeypatch, tmp_path
):
    db_url = pipeline_env
    monkeypatch.setenv("AMQP_URL", amqp_url)
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("ANALISA_REDIS_PREFIX", redis_prefix)
    monkeypatch.setenv("ANALISA_QUEUE_PREFIX", queue_prefix)
    root = tmp_path / "exports"
    monkeypatch.setenv("ANALISA_EXPORT_ROOT", str(root))
    config = SandboxConfig(seed=11, influencers_per_platform=2, posts_per_influencer=6)
    analisa = AnalisaResource(queue_prefix=queue_prefix, redis_prefix=redis_prefix)
    client = redis.Redis.from_url(redis_url)
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
        assert run_job("collect_and_build", analisa=analisa, collect=True).success
        world.advance()
        assert run_job("collect_and_build", analisa=analisa, collect=True).success
        export_gold(db_url, str(root))

        person = world.accounts("instagram")[0]
        posts = sorted({p.post_id for p in world.all_posts("instagram", person.account_id)})
        needles = [person.account_id, *posts]
        assert substring_hits(db_url, needles) != {}
        assert _export_rows_naming(root, needles) > 0
        head = f"{redis_prefix}api:v1:3:0:"
        client.set(f"{head}/v1/influencers/instagram/{person.account_id}", b"{}")
        client.set(f"{head}/v1/influencers", json.dumps([person.username]).encode())
        others = _others(db_url, person.account_id)

        result = CliRunner().invoke(
            app, ["erase", "--platform", "instagram", "--account-id", person.account_id]
        )
        assert result.exit_code == 0, result.output
        assert "verification: 0 rows, 0 cache keys, 0 queued tasks, 0 export files" in (
            result.output
        )
        assert "instagram offers no token revocation endpoint" in result.output

        assert substring_hits(db_url, needles) == {}
        assert _export_rows_naming(root, needles) == 0
        assert [k for k in client.scan_iter(match=f"{head}*")] == []
        assert _others(db_url, person.account_id) == others

        world.advance()
        third = run_job("collect_and_build", analisa=analisa, collect=True)
        assert third.success, third.errors + third.failed_checks
    client.close()
    assert substring_hits(db_url, needles) == {}
    with psycopg.connect(db_url) as conn:
        collected = conn.execute(
            "select count(distinct account_id) from bronze.raw_records"
            " where ingested_at > now() - interval '10 minutes'"
        ).fetchone()[0]
    assert collected == 3  # the three others, still collected
