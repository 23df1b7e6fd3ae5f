"""`analisa accounts list`, `analisa tasks parked|replay` and `analisa keys rotate` against the
real database: what each shows, and what replay and rotation change."""

from __future__ import annotations

import psycopg
import pytest
from typer.testing import CliRunner

from analisa.cli import app
from analisa.core.crypto import TokenVault, new_vault_key
from analisa.core.settings import get_settings
from connectors.outbox import schedule
from connectors.tasks import CollectionTask


@pytest.fixture
def cli_db(db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("ANALISA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    with psycopg.connect(db_url) as conn, conn.transaction():
        for platform, account, user in (
            ("instagram", "1", "ana.fit"),
            ("instagram", "2", "bia.cozinha"),
            ("tiktok", "3", "caio.games"),
        ):
            conn.execute(
                "insert into ops.accounts (platform, account_id, username) values (%s, %s, %s)",
                (platform, account, user),
            )
        conn.execute(
            "insert into ops.account_state (platform, account_id, kind, last_success_at, "
            "next_due_at) values ('instagram', '1', 'public', '2026-11-20 10:00+00', "
            "'2026-11-20 16:00+00')"
        )
        conn.execute(
            "insert into ops.account_state (platform, account_id, parked_task_id, "
            "parked_reason, parked_at) values ('instagram', '2', 'r1:instagram:2:a3', "
            "'permission refused: (#10)', '2026-11-21 09:00+00')"
        )
        conn.execute(
            "insert into ops.account_state (platform, account_id, needs_reauth, reauth_reason) "
            "values ('tiktok', '3', true, 'token refresh refused: invalid_grant')"
        )
    yield db_url
    get_settings.cache_clear()


def test_accounts_list_shows_kind_times_and_state(cli_db):
    result = CliRunner().invoke(app, ["accounts", "list"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if "│" in line]
    row = {name: next(line for line in lines if name in line) for name in ("ana", "bia", "caio")}
    assert "public" in row["ana"] and "2026-11-20 10:00" in row["ana"]
    assert "2026-11-20 16:00" in row["ana"] and "ok" in row["ana"]
    assert "connected" in row["bia"] and "parked: permission refused" in row["bia"]
    assert "needs_reauth: token refresh refused" in row["caio"]


def test_tasks_parked_then_replay_schedules_a_new_round(cli_db):
    parked = CliRunner().invoke(app, ["tasks", "parked"])
    assert parked.exit_code == 0, parked.output
    assert "r1:instagram:2:a3" in parked.output
    assert "permission refused: (#10)" in parked.output
    assert "1 parked" in parked.output

    replayed = CliRunner().invoke(app, ["tasks", "replay"])
    assert replayed.exit_code == 0, replayed.output
    assert "1 task(s) scheduled." in replayed.output
    with psycopg.connect(cli_db) as conn:
        outbox = conn.execute(
            "select platform, account_id, priority, published_at from ops.collection_outbox"
        ).fetchall()
        state = conn.execute(
            "select parked_task_id, pending_task_id like 'replay-%%' "
            "from ops.account_state where account_id = '2'"
        ).fetchone()
    assert outbox == [("instagram", "2", 7, None)]
    assert state == (None, True)
    # nothing left to replay; an account with pending work is never scheduled twice
    again = CliRunner().invoke(app, ["tasks", "replay"])
    assert "0 task(s) scheduled." in again.output


def test_replay_skips_an_account_whose_work_is_pending(cli_db):
    with psycopg.connect(cli_db) as conn, conn.transaction():
        schedule(conn, CollectionTask("instagram", "2", "other"), 0)
    result = CliRunner().invoke(app, ["tasks", "replay", "r1:instagram:2:a3"])
    assert "0 task(s) scheduled." in result.output


def test_keys_rotate_seals_every_token_with_the_new_key(cli_db, monkeypatch):
    from datetime import UTC, datetime, timedelta

    from connectors.token_store import save_token
    from connectors.tokens import TokenSet

    old_key, new_key = new_vault_key(), new_vault_key()
    now = datetime.now(UTC)
    token = TokenSet("tiktok", "3", "a", "r", now + timedelta(hours=1), None, ())
    with psycopg.connect(cli_db) as conn, conn.transaction():
        save_token(conn, TokenVault(old_key), token)
    monkeypatch.setenv("ANALISA_VAULT_KEY", new_key)
    monkeypatch.setenv("ANALISA_VAULT_PREVIOUS_KEYS", old_key)
    result = CliRunner().invoke(app, ["keys", "rotate"])
    assert result.exit_code == 0, result.output
    new_id = TokenVault(new_key).key_id
    assert f"1 token(s) now sealed with key id {new_id}." in result.output
    with psycopg.connect(cli_db) as conn:
        assert conn.execute("select key_id from ops.oauth_tokens").fetchall() == [(new_id,)]
