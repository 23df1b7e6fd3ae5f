"""Facebook Login (Instagram API with Facebook Login): the brand's door to Business Discovery.

authorize → code → short-lived user token → long-lived one (`fb_exchange_token`, ~60 days) →
`/me/accounts` → the Page's linked Instagram business account, on whose node Business
Discovery reads other creators' public profile and media.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
from authlib.common.security import generate_token

from analisa.core.clock import utcnow
from connectors.tokens import AuthorizationRequest, OAuthError, TokenSet

PLATFORM = "facebook"
SCOPES = ("instagram_basic", "instagram_manage_insights", "pages_show_list", "business_management")


@dataclass(frozen=True)
class DiscoveryLogin:
    """A business account that can run Business Discovery, and its long-lived user token."""

    business_account_id: str
    page_id: str
    page_name: str
    token: TokenSet


class FacebookLogin:
    def __init__(
        self,
        http: httpx.Client,
        *,
        authorize_url: str,
        graph_url: str,
        version: str,
        app_id: str,
        app_secret: str,
        redirect_uri: str,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.http = http
        self.authorize_url = authorize_url
        self.base = f"{graph_url.rstrip('/')}/{version.strip('/')}"
        self.app_id = app_id
        self.app_secret = app_secret
        self.redirect_uri = redirect_uri
        self.clock = clock

    @classmethod
    def from_settings(cls, settings: Any, http: httpx.Client, **kwargs: Any) -> FacebookLogin:
        return cls(
            http,
            authorize_url=settings.facebook_authorize_url,
            graph_url=settings.facebook_graph_url,
            version=settings.instagram_graph_version,
            app_id=settings.facebook_app_id,
            app_secret=settings.facebook_app_secret.get_secret_value(),
            redirect_uri=settings.oauth_redirect_uri,
            **kwargs,
        )

    def authorization_request(self, state: str | None = None) -> AuthorizationRequest:
        state = state or generate_token(32)
        params = {
            "client_id": self.app_id,
            "redirect_uri": self.redirect_uri,
            "state": state,
            "scope": ",".join(SCOPES),
            "response_type": "code",
        }
        return AuthorizationRequest(f"{self.authorize_url}?{urlencode(params)}", state)

    def _get(self, path: str, params: dict[str, str]) -> dict:
        response = self.http.get(f"{self.base}/{path}", params=params)
        try:
            body = response.json()
        except ValueError as exc:
            raise OAuthError(PLATFORM, "malformed", f"HTTP {response.status_code}") from exc
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            code = error.get("code", response.status_code)
            raise OAuthError(PLATFORM, code, str(error.get("message", "")))
        if not isinstance(body, dict) or response.status_code != 200:
            raise OAuthError(PLATFORM, response.status_code, "unexpected answer")
        return body

    def connect(self, code: str) -> DiscoveryLogin:
        """Code → long-lived user token → the first Page with a linked Instagram account."""
        now = self.clock()
        short = self._get(
            "oauth/access_token",
            {
                "client_id": self.app_id,
                "redirect_uri": self.redirect_uri,
                "client_secret": self.app_secret,
                "code": code,
            },
        )
        long = self._get(
            "oauth/access_token",
            {
                "grant_type": "fb_exchange_token",
                "client_id": self.app_id,
                "client_secret": self.app_secret,
                "fb_exchange_token": str(short.get("access_token", "")),
            },
        )
        if not long.get("access_token"):
            raise OAuthError(PLATFORM, "malformed", "long-lived exchange without a token")
        access = str(long["access_token"])
        pages = self.http.get(
            f"{self.base}/me/accounts",
            params={"fields": "id,name,instagram_business_account"},
            headers={"Authorization": f"Bearer {access}"},
        ).json()
        for page in pages.get("data") or []:
            linked = (page.get("instagram_business_account") or {}).get("id")
            if linked:
                token = TokenSet(
                    platform=PLATFORM,
                    account_id=str(linked),
                    access_token=access,
                    refresh_token=None,
                    access_expires_at=now + timedelta(seconds=int(long.get("expires_in", 0))),
                    refresh_expires_at=None,
                    scopes=SCOPES,
                )
                name = str(page.get("name", ""))
                return DiscoveryLogin(str(linked), str(page["id"]), name, token)
        raise OAuthError(
            PLATFORM,
            "no_instagram_account",
            "none of this login's Facebook Pages is linked to an Instagram business account",
        )
