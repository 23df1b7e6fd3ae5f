"""Instagram Login: authorize URL, code exchange, long-lived exchange and refresh.

Hand-written rather than an OAuth client library's token flow because Instagram deviates from
standard token responses: two response shapes, no expires_in on the code exchange, and a
separate GET exchange and refresh with their own grant types.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from analisa.core.clock import utcnow
from connectors.tokens import AuthorizationRequest, OAuthError, TokenSet

PLATFORM = "instagram"
DEFAULT_SCOPES = ("instagram_business_basic", "instagram_business_manage_insights")
# The code exchange gives no lifetime; short-lived tokens are documented to last one hour.
SHORT_LIVED = timedelta(hours=1)


class InstagramOAuth:
    def __init__(
        self,
        http: httpx.Client,
        *,
        authorize_url: str,
        api_url: str,
        graph_url: str,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        scopes: Iterable[str] = DEFAULT_SCOPES,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.http = http
        self.authorize_url = authorize_url
        self.api_url = api_url.rstrip("/")
        self.graph_url = graph_url.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.scopes = tuple(scopes)
        self.clock = clock

    @classmethod
    def from_settings(cls, settings: Any, http: httpx.Client, **kwargs: Any) -> InstagramOAuth:
        """From analisa.core.settings.Settings."""
        return cls(
            http,
            authorize_url=settings.instagram_authorize_url,
            api_url=settings.instagram_api_url,
            graph_url=settings.instagram_graph_url,
            client_id=settings.instagram_client_id,
            client_secret=settings.instagram_client_secret.get_secret_value(),
            redirect_uri=settings.oauth_redirect_uri,
            **kwargs,
        )

    def authorization_request(
        self, state: str | None = None, *, pkce: bool = False, **extra: str
    ) -> AuthorizationRequest:
        """Where to send the user; keep `state` (and the verifier) to check the callback."""
        state = state or generate_token(32)
        params = {
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "response_type": "code",
            "scope": ",".join(self.scopes),
            "state": state,
        }
        verifier = None
        if pkce:
            verifier = generate_token(64)
            params["code_challenge"] = create_s256_code_challenge(verifier)
            params["code_challenge_method"] = "S256"
        params.update(extra)
        return AuthorizationRequest(f"{self.authorize_url}?{urlencode(params)}", state, verifier)

    def exchange_code(self, code: str, code_verifier: str | None = None) -> TokenSet:
        """The short-lived token (one hour) for an authorization code."""
        # The callback's code may carry the "#_" the platform appends.
        code = code.removesuffix("#_")
        form = {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "grant_type": "authorization_code",
            "redirect_uri": self.redirect_uri,
            "code": code,
        }
        if code_verifier:
            form["code_verifier"] = code_verifier
        now = self.clock()
        body = _json(self.http.post(f"{self.api_url}/oauth/access_token", data=form))
        # Documented both ways: {"data": [{...}]} or flat; user_id string or number;
        # permissions a comma-separated string or a list.
        entry = body.get("data", [None])[0] if isinstance(body.get("data"), list) else body
        if not isinstance(entry, dict) or not entry.get("access_token") or not entry.get("user_id"):
            raise OAuthError(PLATFORM, "malformed", "code exchange answer without a token")
        permissions = entry.get("permissions") or ()
        if isinstance(permissions, str):
            permissions = [p for p in permissions.split(",") if p]
        return TokenSet(
            platform=PLATFORM,
            account_id=str(entry["user_id"]),
            access_token=str(entry["access_token"]),
            refresh_token=None,
            access_expires_at=now + SHORT_LIVED,
            refresh_expires_at=None,
            scopes=tuple(str(p).strip() for p in permissions),
        )

    def exchange_long_lived(self, short: TokenSet) -> TokenSet:
        """The 60-day token for a short-lived one."""
        params = {
            "grant_type": "ig_exchange_token",
            "client_secret": self.client_secret,
            "access_token": short.access_token,
        }
        return self._long_token(f"{self.graph_url}/access_token", params, short)

    def refresh(self, token: TokenSet) -> TokenSet:
        """A fresh 60-day token; the platform refuses tokens younger than 24 h or expired."""
        params = {"grant_type": "ig_refresh_token", "access_token": token.access_token}
        return self._long_token(f"{self.graph_url}/refresh_access_token", params, token)

    def connect(self, code: str, code_verifier: str | None = None) -> TokenSet:
        """Code to long-lived token: what the callback of the connect flow does."""
        return self.exchange_long_lived(self.exchange_code(code, code_verifier))

    def _long_token(self, url: str, params: dict[str, str], previous: TokenSet) -> TokenSet:
        now = self.clock()
        body = _json(self.http.get(url, params=params))
        token = body.get("access_token")
        expires_in = body.get("expires_in")
        if not token or not isinstance(expires_in, int | float):
            raise OAuthError(PLATFORM, "malformed", "token answer without access_token/expires_in")
        return TokenSet(
            platform=PLATFORM,
            account_id=previous.account_id,
            access_token=str(token),
            refresh_token=None,
            access_expires_at=now + timedelta(seconds=expires_in),
            refresh_expires_at=None,
            scopes=previous.scopes,
        )


def _json(response: httpx.Response) -> dict:
    """The answer's JSON object, or OAuthError with the platform's code and message."""
    try:
        body = response.json()
    except ValueError as exc:
        raise OAuthError(PLATFORM, "malformed", f"HTTP {response.status_code}: not JSON") from exc
    if not isinstance(body, dict):
        raise OAuthError(PLATFORM, "malformed", f"HTTP {response.status_code}: not an object")
    # api.instagram.com errors: {"error_type", "code", "error_message"}.
    if "error_type" in body or "error_message" in body:
        code = body.get("code", response.status_code)
        raise OAuthError(PLATFORM, code, str(body.get("error_message", "")))
    # graph.instagram.com errors: {"error": {"message", "type", "code", ...}}.
    error = body.get("error")
    if isinstance(error, dict):
        code = error.get("code", response.status_code)
        raise OAuthError(PLATFORM, code, str(error.get("message", "")))
    if response.status_code != 200:
        raise OAuthError(PLATFORM, response.status_code, "unexpected answer")
    return body
