"""`analisa connect` against the platform sandbox, with an app configured the way a real one is
(its own client id and secret, set through the environment like the sandbox's endpoints).

The creator's part is played at the prompt: read the consent URL the command printed, approve
it in the sandbox as the account's owner, paste back where the browser was redirected.
"""

import re
import sys

import httpx
import psycopg
import pytest
import typer
from typer.testing import CliRunner

from analisa.cli import app
from analisa.core.settings import get_settings
from sandbox.server import SandboxServer
from sandbox.world import SandboxConfig

APP = {
    "instagram": {"INSTAGRAM_CLIENT_ID": "brand-ig-app", "INSTAGRAM_CLIENT_SECRET": "brand-ig-s3"},
    "tiktok": {"TIKTOK_CLIENT_KEY": "brand-tt-app", "TIKTOK_CLIENT_SECRET": "brand-tt-s3"},
}
SANDBOX_APP = SandboxConfig(
    seed=5,
    influencers_per_platform=1,
    instagram_client_id="brand-ig-app",
    instagram_client_secret="brand-ig-s3",
    tiktok_client_key="brand-tt-app",
    tiktok_client_secret="brand-tt-s3",
)


@pytest.fixture
def sandbox_env(db_url, tmp_path, monkeypatch):
    with SandboxServer(SANDBOX_APP) as sandbox:
        for key, value in {
            **sandbox.settings_overrides(),
            **APP["instagram"],
            **APP["tiktok"],
        }.items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("DATABASE_URL", db_url)
        monkeypatch.setenv("ANALISA_HOME", str(tmp_path / "home"))
        monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
        monkeypatch.delenv("ANALISA_ENV", raising=False)
        get_settings.cache_clear()
        yield sandbox
    get_settings.cache_clear()


def _printed_consent_url() -> str:
    sys.stdout.flush()
    printed = sys.stdout.buffer.getvalue().decode()
    return re.search(r"approve access:\n(\S+)\n", printed).group(1)


@pytest.mark.parametrize("platform", ["instagram", "tiktok"])
def test_connect_stores_the_token_of_the_approving_creator(sandbox_env, monkeypatch, platform):
    account = sandbox_env.world.accounts(platform)[0]
    consent_urls = []

    def creator_at_the_prompt(text: str) -> str:
        consent_url = _printed_consent_url()
        consent_urls.append(consent_url)
        approve = httpx.URL(consent_url).copy_add_param("login_as", account.username)
        return httpx.get(approve, follow_redirects=False).headers["location"]

    monkeypatch.setattr(typer, "prompt", creator_at_the_prompt)
    result = CliRunner().invoke(app, ["connect", platform])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == (
        f"connected {platform} account {account.account_id}; `analisa collect` includes it"
    )
    client_param = "client_id" if platform == "instagram" else "client_key"
    expected_client = next(iter(APP[platform].values()))
    assert httpx.URL(consent_urls[0]).params[client_param] == expected_client
    with psycopg.connect(get_settings().database_url) as conn:
        rows = conn.execute(
            "select a.platform, a.account_id, a.active from ops.accounts a "
            "join ops.oauth_tokens t using (platform, account_id)"
        ).fetchall()
    assert rows == [(platform, account.account_id, True)]


def test_connect_refuses_a_redirect_of_another_request(sandbox_env, monkeypatch):
    account = sandbox_env.world.accounts("tiktok")[0]

    def pasted_from_elsewhere(text: str) -> str:
        approve = httpx.URL(_printed_consent_url()).copy_add_param("login_as", account.username)
        location = httpx.get(approve, follow_redirects=False).headers["location"]
        return re.sub(r"state=[^&]+", "state=forged", location)

    monkeypatch.setattr(typer, "prompt", pasted_from_elsewhere)
    result = CliRunner().invoke(app, ["connect", "tiktok"])
    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == (
        "not connected: tiktok OAuth error state: the redirect's state does not match this request"
    )
    with psycopg.connect(get_settings().database_url) as conn:
        assert conn.execute("select count(*) from ops.oauth_tokens").fetchone()[0] == 0
