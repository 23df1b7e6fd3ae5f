"""TikTok Login Kit: the consent page and POST /v2/oauth/token/ (code exchange and refresh).

The consent page is approved on the spot for the sandbox-only `login_as` account; refresh
tokens rotate, so a client that keeps using an old one is caught.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sandbox.auth import TIKTOK_SCOPES, AuthFailure, TokenGrant
from sandbox.replies import Reply, add_query, json_reply
from sandbox.tiktok.answers import TikTokAnswers
from sandbox.world import SandboxWorld

# Why a code exchange failed -> the platform's description of it.
_CODE_MESSAGES = {
    "code_unknown": "Authorization code is invalid.",
    "code_used": "Authorization code has been used.",
    "code_expired": "Authorization code is expired.",
    "redirect_mismatch": "Redirect URI does not match the authorization request.",
    "verifier_invalid": "Code verifier is invalid.",
}


class TikTokOAuth:
    def __init__(self, world: SandboxWorld, answers: TikTokAnswers) -> None:
        self.world = world
        self.answers = answers

    @property
    def cfg(self):
        return self.world.config

    def authorize(self, query: Mapping[str, str]) -> Reply:
        """The consent screen, auto-approved for the sandbox-only `login_as` account."""
        w, error = self.world, self.answers.oauth_error
        with w.lock:
            if query.get("client_key") != self.cfg.tiktok_client_key:
                return error("invalid_client", "The client_key is not valid.")
            redirect_uri = query.get("redirect_uri")
            if not redirect_uri:
                return error("invalid_request", "redirect_uri is required.")
            if query.get("response_type") != "code":
                return error("invalid_request", "response_type must be code.")
            scopes = tuple(s for s in query.get("scope", "").split(",") if s)
            if not scopes or any(s not in TIKTOK_SCOPES for s in scopes):
                return error("invalid_scope", "The scope is missing or not valid.")
            challenge = query.get("code_challenge")
            method = query.get("code_challenge_method")
            if challenge and method != "S256":
                return error("invalid_request", "Only the S256 code_challenge_method is supported.")
            account = w.account_by_username("tiktok", query.get("login_as", ""))
            if account is None:
                return error(
                    "invalid_request", "Sandbox: login_as must name a TikTok sandbox account."
                )
            grant = w.auth.create_code(
                "tiktok",
                account.account_id,
                self.cfg.tiktok_client_key,
                redirect_uri,
                scopes,
                challenge or None,
                method if challenge else None,
                w.now(),
            )
            params = {"code": grant.code, "scopes": ",".join(scopes)}
            if query.get("state"):
                params["state"] = query["state"]
            return Reply(302, "", {"Location": add_query(redirect_uri, params)}, "text/plain")

    def token(self, form: Mapping[str, str]) -> Reply:
        """POST /v2/oauth/token/: code exchange and refresh (the refresh token rotates)."""
        w, error = self.world, self.answers.oauth_error
        with w.lock:
            now = w.now()
            if (
                form.get("client_key") != self.cfg.tiktok_client_key
                or form.get("client_secret") != self.cfg.tiktok_client_secret
            ):
                return error("invalid_client", "Client key or secret is incorrect.")
            grant_type = form.get("grant_type")
            if grant_type == "authorization_code":
                if not form.get("code") or not form.get("redirect_uri"):
                    return error("invalid_request", "code and redirect_uri are required.")
                try:
                    code = w.auth.redeem_code(
                        "tiktok", form["code"], form["redirect_uri"], form.get("code_verifier"), now
                    )
                except AuthFailure as failure:
                    return error("invalid_grant", _CODE_MESSAGES[failure.reason])
                access, refresh = w.auth.issue_tiktok(code.account_id, code.scopes, now)
                return _token_body(access, refresh, now)
            if grant_type == "refresh_token":
                try:
                    old = w.auth.lookup("tiktok", form.get("refresh_token"), ("refresh",), now)
                except AuthFailure:
                    return error("invalid_grant", "Refresh token is invalid or expired.")
                # Rotation: the old refresh token stops working the moment a new one is issued.
                old.revoked = True
                access, refresh = w.auth.issue_tiktok(old.account_id, old.scopes, now)
                return _token_body(access, refresh, now)
            return error("unsupported_grant_type", "The grant_type is not supported.")

    def revoke(self, form: Mapping[str, str]) -> Reply:
        """POST /v2/oauth/revoke/: every grant of the token's account for this app ends."""
        w, error = self.world, self.answers.oauth_error
        with w.lock:
            if (
                form.get("client_key") != self.cfg.tiktok_client_key
                or form.get("client_secret") != self.cfg.tiktok_client_secret
            ):
                return error("invalid_client", "Client key or secret is incorrect.")
            try:
                grant = w.auth.lookup("tiktok", form.get("token"), ("access",), w.now())
            except AuthFailure:
                return error("invalid_request", "The token is invalid or already revoked.")
            for other in w.auth.tokens.values():
                if other.platform == "tiktok" and other.account_id == grant.account_id:
                    other.revoked = True
            return json_reply(200, {})


def _token_body(access: TokenGrant, refresh: TokenGrant, now: datetime) -> Reply:
    body = {
        "open_id": access.account_id,
        "scope": ",".join(access.scopes),
        "access_token": access.token,
        "expires_in": int((access.expires_at - now).total_seconds()),
        "refresh_token": refresh.token,
        "refresh_expires_in": int((refresh.expires_at - now).total_seconds()),
        "token_type": "Bearer",
    }
    return json_reply(200, body)
