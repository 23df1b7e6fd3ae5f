"""`pipeline` on an empty bronze and `collect` without a connected account say what to do next
and stop before Dagster runs (no run, no pipeline log), on a real migrated database."""

import json

import psycopg
import pytest
from typer.testing import CliRunner

from analisa.cli import app
from analisa.cli.build import bronze_is_empty, connected_accounts
from analisa.core.settings import get_settings


@pytest.fixture
def cli_env(db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("ANALISA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    for name in ("ANALISA_ENV", "REDIS_URL", "AMQP_URL"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield db_url
    get_settings.cache_clear()


def _nothing_ran(tmp_path) -> bool:
    """run_job writes the pipeline log and Dagster keeps its runs under DAGSTER_HOME."""
    dagster_home = tmp_path / "dagster"
    return not (tmp_path / "home" / "logs" / "pipeline.log").exists() and sorted(
        p.name for p in dagster_home.iterdir()
    ) == ["dagster.yaml"]


def test_pipeline_on_an_empty_bronze_says_how_to_fill_it(cli_env, tmp_path):
    result = CliRunner().invoke(app, ["pipeline"])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    lines = result.output.splitlines()
    assert lines[0] == "Bronze is empty: there is nothing to build yet. Fill it first, with one of:"
    assert [line.split()[:3] for line in lines[1:4]] == [
        ["analisa", "ingest", "PATH"],
        ["analisa", "connect", "instagram"],
        ["analisa", "demo", "the"],
    ]
    assert "then `analisa collect`" in lines[2]
    assert _nothing_ran(tmp_path)


def _token_row(conn, platform, account_id):
    conn.execute(
        "insert into ops.oauth_tokens (platform, account_id, access_token_enc) values (%s, %s, %s)",
        (platform, account_id, b"ciphertext"),
    )


def test_collect_without_a_connected_account_says_to_connect_one(cli_env, tmp_path):
    with psycopg.connect(cli_env) as conn:
        # an active account without a token, and a token whose account was deactivated:
        # neither is something a collection run could visit
        conn.execute("insert into ops.accounts (platform, account_id) values ('instagram', '1')")
        conn.execute(
            "insert into ops.accounts (platform, account_id, active) values ('tiktok', 'a', false)"
        )
        _token_row(conn, "tiktok", "a")
    assert connected_accounts(cli_env) == 0
    result = CliRunner().invoke(app, ["collect"])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    assert result.output.splitlines() == [
        "No connected account to collect: connect a creator first with",
        "  analisa connect instagram    (or: analisa connect tiktok)",
        "or try the pipeline on a local sandbox with `analisa demo`.",
    ]
    assert _nothing_ran(tmp_path)


def test_connected_accounts_counts_active_accounts_with_a_token(db_url):
    with psycopg.connect(db_url) as conn:
        conn.execute(
            "insert into ops.accounts (platform, account_id, active) values "
            "('instagram', '1', true), ('instagram', '2', true), ('tiktok', 'a', false), "
            "('tiktok', 'b', true)"
        )
        for platform, account_id in [("instagram", "1"), ("tiktok", "a"), ("tiktok", "b")]:
            _token_row(conn, platform, account_id)
    # instagram/1 and tiktok/b; instagram/2 has no token, tiktok/a is inactive
    assert connected_accounts(db_url) == 2


def test_bronze_is_no_longer_empty_after_an_ingest(cli_env, tmp_path):
    assert bronze_is_empty(cli_env)
    envelope = {
        "platform": "tiktok",
        "endpoint": "user_info",
        "account_id": "-000a",
        "round_id": "r1",
        "fetched_at": "2026-10-05T08:00:00Z",
        "status": 200,
        "body": {"data": {"user": {"open_id": "-000a", "follower_count": 5}}},
    }
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps(envelope) + "\n")
    result = CliRunner().invoke(app, ["ingest", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("1 files, 1 envelopes: 1 loaded")
    assert not bronze_is_empty(cli_env)
