"""`analisa connect`: consent URL out, redirect URL in, state checked, token stored encrypted."""

import httpx
import psycopg
import pytest

from analisa.core.crypto import TokenVault
from analisa.core.settings import Settings
from connectors.oauth_connect import code_from_redirect, connect_account
from connectors.token_store import load_token, save_token
from connectors.tokens import AuthorizationRequest, OAuthError
from sandbox.server import SandboxServer
from sandbox.world import SandboxConfig


def test_code_from_redirect_checks_state_and_errors():
    request = AuthorizationRequest(url="https://x", state="s1", code_verifier=None)
    assert code_from_redirect("tiktok", request, "https://app/cb?code=abc&state=s1") == "abc"
    with pytest.raises(OAuthError, match="state does not match"):
        code_from_redirect("tiktok", request, "https://app/cb?code=abc&state=evil")
    with pytest.raises(OAuthError, match="did not connect: denied by user"):
        code_from_redirect(
            "tiktok", request, "https://app/cb?error=access_denied&error_description=denied+by+user"
        )


@pytest.mark.parametrize("platform", ["instagram", "tiktok"])
def test_connect_account_through_the_consent_page(platform, db_url, monkeypatch):
    with SandboxServer(SandboxConfig(seed=5, influencers_per_platform=1)) as sandbox:
        for key, value in sandbox.settings_overrides().items():
            monkeypatch.setenv(key, value)
        settings = Settings()
        account = sandbox.world.accounts(platform)[0]
        with httpx.Client(timeout=30) as http:

            def browser(consent_url: str) -> str:  # the creator approves as themselves
                url = httpx.URL(consent_url).copy_add_param("login_as", account.username)
                return http.get(url, follow_redirects=False).headers["location"]

            token = connect_account(settings, http, platform, browser)
        assert token.account_id == account.account_id
        vault = TokenVault(settings.vault_key.get_secret_value())
        with psycopg.connect(db_url) as conn:
            save_token(conn, vault, token)
            stored = conn.execute(
                "select access_token_enc from ops.oauth_tokens where account_id = %s",
                (account.account_id,),
            ).fetchone()[0]
            assert token.access_token.encode() not in bytes(stored)
            assert load_token(conn, vault, platform, account.account_id) == token
