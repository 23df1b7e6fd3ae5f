"""An erased creator who connects again themselves (`analisa connect`) lifts the suppression;
the lift is audited, and `analisa audit` lists both actions under the pseudonym only."""

from __future__ import annotations

import httpx
import psycopg
import typer
from typer.testing import CliRunner

from analisa.cli import app
from analisa.core.settings import get_settings
from tests.integration.cli.test_connect import _printed_consent_url, sandbox_env  # noqa: F401


def test_reconnecting_lifts_the_suppression(sandbox_env, monkeypatch):  # noqa: F811
    account = sandbox_env.world.accounts("tiktok")[0]
    runner = CliRunner()
    result = runner.invoke(
        app, ["erase", "--platform", "tiktok", "--account-id", account.account_id]
    )
    assert result.exit_code == 0, result.output
    assert "on the suppression list" in result.output
    with psycopg.connect(get_settings().database_url) as conn:
        assert conn.execute("select count(*) from ops.suppressions").fetchone()[0] == 1

    def creator_at_the_prompt(text: str) -> str:
        approve = httpx.URL(_printed_consent_url()).copy_add_param("login_as", account.username)
        return httpx.get(approve, follow_redirects=False).headers["location"]

    monkeypatch.setattr(typer, "prompt", creator_at_the_prompt)
    result = runner.invoke(app, ["connect", "tiktok"])
    assert result.exit_code == 0, result.output
    assert "connecting lifts that" in result.output
    with psycopg.connect(get_settings().database_url) as conn:
        assert conn.execute("select count(*) from ops.suppressions").fetchone()[0] == 0
        actions = conn.execute(
            "select action, outcome from ops.audit_log order by audit_id"
        ).fetchall()
    assert actions == [("erase", "nothing"), ("suppression_lifted", "ok")]

    result = runner.invoke(app, ["audit"])
    assert result.exit_code == 0, result.output
    assert " suppression_lifted " in result.output and " erase " in result.output
    assert account.account_id not in result.output and account.username not in result.output
