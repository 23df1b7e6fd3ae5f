"""Instagram Login: the consent page, the code exchange, long-lived tokens and their refresh.

The consent page is approved on the spot for the sandbox-only `login_as` account, standing in
for a creator clicking "allow"; everything after it follows the platform's contract.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sandbox.auth import INSTAGRAM_REFRESH_MIN_AGE, INSTAGRAM_SCOPES, AuthFailure
from sandbox.instagram.errors import graph_error, oauth_error, param_error, token_expired
from sandbox.instagram.usage import UsageMeter
from sandbox.replies import Reply, add_query, json_reply
from sandbox.world import SandboxWorld

# Why a code exchange failed -> the platform's message for it.
_CODE_MESSAGES = {
    "code_unknown": "Matching code was not found or was already used",
    "code_used": "Matching code was not found or was already used",
    "code_expired": "This authorization code has expired.",
    "redirect_mismatch": "Error validating verification code. Please make sure your redirect_uri "
    "is identical to the one you used in the OAuth dialog request",
    "verifier_invalid": "Invalid code_verifier",
}


class InstagramOAuth:
    """www.instagram.com/oauth/authorize, api.instagram.com/oauth/access_token, token renewal."""

    def __init__(self, world: SandboxWorld) -> None:
        self.world = world
        self.usage = UsageMeter(world)

    @property
    def cfg(self):
        return self.world.config

    def authorize(self, query: Mapping[str, str]) -> Reply:
        """The consent screen, auto-approved for the sandbox-only `login_as` account."""
        w = self.world
        with w.lock:
            if query.get("client_id") != self.cfg.instagram_client_id:
                return oauth_error("Invalid platform app")
            redirect_uri = query.get("redirect_uri")
            if not redirect_uri:
                return oauth_error("Invalid redirect_uri")
            if query.get("response_type") != "code":
                return oauth_error("Invalid response_type: only 'code' is supported")
            state = query.get("state")
            if not state:
                return oauth_error("Missing state parameter")
            scopes = tuple(s for s in query.get("scope", "").split(",") if s) or (
                "instagram_business_basic",
            )
            unknown = [s for s in scopes if s not in INSTAGRAM_SCOPES]
            if unknown:
                return oauth_error(f"Invalid Scopes: {', '.join(unknown)}")
            challenge = query.get("code_challenge")
            method = query.get("code_challenge_method")
            if challenge and method != "S256":
                return oauth_error("Only the S256 code_challenge_method is supported")
            account = w.account_by_username("instagram", query.get("login_as", ""))
            if account is None:
                return oauth_error("Sandbox: login_as must name an Instagram sandbox account")
            grant = w.auth.create_code(
                "instagram",
                account.account_id,
                self.cfg.instagram_client_id,
                redirect_uri,
                scopes,
                challenge or None,
                method if challenge else None,
                w.now(),
            )
            # The real redirect appends "#_" to the code; clients must drop the fragment.
            location = add_query(redirect_uri, {"code": grant.code, "state": state}, fragment="_")
            return Reply(302, "", {"Location": location}, content_type="text/plain")

    def code_exchange(self, form: Mapping[str, str]) -> Reply:
        """POST api.instagram.com/oauth/access_token: the short-lived token."""
        with self.world.lock:
            return self.usage.stamp_now(self._code_exchange(form), None)

    def _code_exchange(self, form: Mapping[str, str]) -> Reply:
        w = self.world
        for name in ("client_id", "client_secret", "grant_type", "redirect_uri", "code"):
            if not form.get(name):
                return oauth_error(f"Missing required field: {name}")
        if form["client_id"] != self.cfg.instagram_client_id:
            return oauth_error("Invalid platform app")
        if form["client_secret"] != self.cfg.instagram_client_secret:
            return oauth_error("Error validating client secret.")
        if form["grant_type"] != "authorization_code":
            return oauth_error("Unsupported grant_type")
        now = w.now()
        try:
            grant = w.auth.redeem_code(
                "instagram", form["code"], form["redirect_uri"], form.get("code_verifier"), now
            )
        except AuthFailure as failure:
            return oauth_error(_CODE_MESSAGES[failure.reason])
        token = w.auth.issue_instagram(grant.account_id, grant.scopes, now, long_lived=False)
        # Both documented shapes occur in the wild; alternate so clients handle each.
        flat = w.auth.instagram_code_exchanges % 2 == 1
        w.auth.instagram_code_exchanges += 1
        if flat:
            body: dict = {
                "access_token": token.token,
                "user_id": int(grant.account_id),
                "permissions": list(grant.scopes),
            }
        else:
            body = {
                "data": [
                    {
                        "access_token": token.token,
                        "user_id": grant.account_id,
                        "permissions": ",".join(grant.scopes),
                    }
                ]
            }
        return json_reply(200, body, ascii_only=True)

    def long_lived(self, query: Mapping[str, str], now: datetime) -> Reply:
        """GET graph.instagram.com/access_token: a short-lived token for a 60-day one."""
        w = self.world
        if query.get("grant_type") != "ig_exchange_token":
            return param_error("Unsupported grant_type; expected ig_exchange_token")
        if query.get("client_secret") != self.cfg.instagram_client_secret:
            return graph_error("Error validating client secret.", 1)
        try:
            short = w.auth.lookup("instagram", query.get("access_token"), ("short",), now)
        except AuthFailure as failure:
            return self.token_error(failure.reason, query.get("access_token"), now)
        token = w.auth.issue_instagram(short.account_id, short.scopes, now, long_lived=True)
        return _token_body(token.expires_at, token.token, now)

    def refresh(self, query: Mapping[str, str], now: datetime) -> Reply:
        """GET graph.instagram.com/refresh_access_token: a fresh 60 days for a day-old token."""
        w = self.world
        if query.get("grant_type") != "ig_refresh_token":
            return param_error("Unsupported grant_type; expected ig_refresh_token")
        try:
            old = w.auth.lookup("instagram", query.get("access_token"), ("long",), now)
        except AuthFailure as failure:
            return self.token_error(failure.reason, query.get("access_token"), now)
        if now - old.issued_at < INSTAGRAM_REFRESH_MIN_AGE:
            return graph_error(
                "(#100) The access token can only be refreshed once it is at least 24 hours old",
                100,
            )
        token = w.auth.issue_instagram(old.account_id, old.scopes, now, long_lived=True)
        return _token_body(token.expires_at, token.token, now)

    def token_error(self, reason: str, token: str | None, now: datetime) -> Reply:
        """The Graph answer to a missing, unknown or expired access token."""
        if not token:
            return graph_error(
                "An active access token must be used to query information about the current user.",
                2500,
            )
        if reason == "token_expired":
            grant = self.world.auth.tokens[token]
            return token_expired(grant.expires_at, now)
        return graph_error("Invalid OAuth access token - Cannot parse access token", 190)


def _token_body(expires_at: datetime, token: str, now: datetime) -> Reply:
    expires_in = int((expires_at - now).total_seconds())
    body = {"access_token": token, "token_type": "bearer", "expires_in": expires_in}
    return json_reply(200, body, ascii_only=True)
