"""TikTok Login Kit: authorize URL with PKCE, code exchange and rotating refresh.

Hand-written rather than an OAuth client library's token flow because TikTok deviates from
standard OAuth: `client_key` instead of client_id, and errors in its own shape with a log_id.
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

PLATFORM = "tiktok"
DEFAULT_SCOPES = ("user.info.basic", "user.info.profile", "user.info.stats", "video.list")


class TikTokOAuth:
    def __init__(
        self,
        http: httpx.Client,
        *,
        authorize_url: str,
        api_url: str,
        client_key: str,
        client_secret: str,
        redirect_uri: str,
        scopes: Iterable[str] = DEFAULT_SCOPES,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.http = http
        self.authorize_url = authorize_url
        self.api_url = api_url.rstrip("/")
        self.client_key = client_key
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.scopes = tuple(scopes)
        self.clock = clock

    @classmethod
    def from_settings(cls, settings: Any, http: httpx.Client, **kwargs: Any) -> TikTokOAuth:
        """From analisa.core.settings.Settings."""
        return cls(
            http,
            authorize_url=settings.tiktok_authorize_url,
            api_url=settings.tiktok_api_url,
            client_key=settings.tiktok_client_key,
            client_secret=settings.tiktok_client_secret.get_secret_value(),
            redirect_uri=settings.oauth_redirect_uri,
            **kwargs,
        )

    def authorization_request(self, state: str | None = None, **extra: str) -> AuthorizationRequest:
        """Where to send the user, with PKCE S256; keep state and verifier for the callback."""
        state = state or generate_token(32)
        verifier = generate_token(64)
        params = {
            "client_key": self.client_key,
            "scope": ",".join(self.scopes),
            "response_type": "code",
            "redirect_uri": self.redirect_uri,
            "state": state,
            "code_challenge": create_s256_code_challenge(verifier),
            "code_challenge_method": "S256",
        }
        params.update(extra)
        return AuthorizationRequest(f"{self.authorize_url}?{urlencode(params)}", state, verifier)

    def exchange_code(self, code: str, code_verifier: str | None = None) -> TokenSet:
        form = {
            "client_key": self.client_key,
            "client_secret": self.client_secret,
            "code": code,
            "grant_type": "authorization_code",
            "redirect_uri": self.redirect_uri,
        }
        if code_verifier:
            form["code_verifier"] = code_verifier
        return self._token(form)

    def connect(self, code: str, code_verifier: str | None = None) -> TokenSet:
        """Code to tokens: what the callback of the connect flow does."""
        return self.exchange_code(code, code_verifier)

    def refresh(self, token: TokenSet) -> TokenSet:
        """New tokens; the refresh token may rotate, so always store the returned one."""
        if not token.refresh_token:
            raise OAuthError(PLATFORM, "no_refresh_token", "this token set has no refresh token")
        form = {
            "client_key": self.client_key,
            "client_secret": self.client_secret,
            "grant_type": "refresh_token",
            "refresh_token": token.refresh_token,
        }
        return self._token(form)

    def revoke(self, token: TokenSet) -> None:
        """POST /v2/oauth/revoke/: the platform forgets the grant (access and refresh token);
        used when the account's owner asks for erasure."""
        response = self.http.post(
            f"{self.api_url}/v2/oauth/revoke/",
            data={
                "client_key": self.client_key,
                "client_secret": self.client_secret,
                "token": token.access_token,
            },
        )
        try:
            body = response.json()
        except ValueError as exc:
            raise OAuthError(PLATFORM, "malformed", f"HTTP {response.status_code}") from exc
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, str) and error:
            raise OAuthError(PLATFORM, error, str(body.get("error_description", "")))
        if isinstance(error, dict) and error.get("code") not in (None, "ok"):
            raise OAuthError(PLATFORM, str(error.get("code")), str(error.get("message", "")))
        if response.status_code >= 400:
            raise OAuthError(PLATFORM, "http", f"HTTP {response.status_code}")

    def _token(self, form: dict[str, str]) -> TokenSet:
        now = self.clock()
        response = self.http.post(f"{self.api_url}/v2/oauth/token/", data=form)
        try:
            body = response.json()
        except ValueError as exc:
            message = f"HTTP {response.status_code}: not JSON"
            raise OAuthError(PLATFORM, "malformed", message) from exc
        if not isinstance(body, dict):
            raise OAuthError(PLATFORM, "malformed", f"HTTP {response.status_code}: not an object")
        error = body.get("error")
        if isinstance(error, str) and error:
            raise OAuthError(PLATFORM, error, str(body.get("error_description", "")))
        if isinstance(error, dict) and error.get("code") not in (None, "ok"):
            raise OAuthError(PLATFORM, str(error.get("code")), str(error.get("message", "")))
        # Some answers nest the token under "data"; read either.
        data = body.get("data") if isinstance(body.get("data"), dict) else body
        try:
            return TokenSet(
                platform=PLATFORM,
                account_id=str(data["open_id"]),
                access_token=str(data["access_token"]),
                refresh_token=str(data["refresh_token"]),
                access_expires_at=now + timedelta(seconds=int(data["expires_in"])),
                refresh_expires_at=now + timedelta(seconds=int(data["refresh_expires_in"])),
                scopes=tuple(s for s in str(data.get("scope", "")).split(",") if s),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise OAuthError(PLATFORM, "malformed", f"token answer lacks {exc}") from exc
