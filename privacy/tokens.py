"""The account's OAuth tokens at erasure: revoked at the platform where it offers a way, then
deleted (the generic erasure deletes ops.oauth_tokens rows like any row keyed by the account).

TikTok: POST /v2/oauth/revoke/ ends the grant. Instagram (API with Instagram Login) offers no
endpoint to revoke a user's token: the token stops being used and is deleted here, and expires
by itself (60 days); the owner removes the app under the account's settings ("Apps and
websites"), which Meta reports to the app's deauthorize callback.
"""

from __future__ import annotations

import httpx
import psycopg

from analisa.core.crypto import VaultError
from analisa.core.settings import Settings
from connectors.registry import UnknownPlatformError, connector
from connectors.token_store import load_token, vault_for
from connectors.tokens import OAuthError


def revoke(settings: Settings, db_url: str, platform: str, account_id: str) -> str:
    """What happened to the token at the platform, in words (never the token)."""
    with psycopg.connect(db_url) as conn:
        try:
            token = load_token(conn, vault_for(settings), platform, account_id)
        except VaultError:
            return "token unreadable with the configured keys: deleted without revoking"
    if token is None:
        return "no token held"
    try:
        flow_of = connector(platform).oauth
    except UnknownPlatformError:
        return "unknown platform: token deleted without revoking"
    with httpx.Client(timeout=30, follow_redirects=False) as http:
        flow = flow_of(settings, http)
        revoke_at_platform = getattr(flow, "revoke", None)
        if revoke_at_platform is None:
            return f"{platform} offers no token revocation endpoint: token deleted"
        try:
            revoke_at_platform(token)
        except (OAuthError, httpx.HTTPError) as exc:
            reason = exc.code if isinstance(exc, OAuthError) else type(exc).__name__
            return f"revocation failed ({reason}): token deleted"
    return "revoked at the platform and deleted"
