"""Facebook Login (Instagram API with Facebook Login): the brand's door to Business Discovery.

authorize → code → short-lived user token → long-lived one (`fb_exchange_token`, ~60 days) →
`/me/accounts` → the Page's linked Instagram business account, on whose node Business
Discovery reads other creators' public profile and media.

The long-lived user token is renewed before it expires by exchanging it, still valid, again
(`fb_exchange_token`: a new token of about 60 days; an expired one cannot be exchanged). Its
dates are read from `/debug_token` with the app token: `expires_at`, and
`data_access_expires_at`, the end of the app's access to the person's data (90 days after
their last login), which no renewal moves: before then the brand must log in again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
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
    data_access_expires_at: datetime | None = None
    """When the app's access to the person's data ends; None when the platform did not say."""


@dataclass(frozen=True)
class TokenInfo:
    """What `/debug_token` says of a token (dates None when it says "never" or nothing)."""

    is_valid: bool
    expires_at: datetime | None
    data_access_expires_at: datetime | None
    message: str = ""


@dataclass(frozen=True)
class RenewedToken:
    token: TokenSet
    data_access_expires_at: datetime | None


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

    def inspect(self, access_token: str) -> TokenInfo:
        """`/debug_token` with the app token: is it valid, when it and its data access end."""
        body = self._get(
            "debug_token",
            {
                "input_token": access_token,
                "access_token": f"{self.app_id}|{self.app_secret}",
            },
        )
        data = body.get("data") if isinstance(body.get("data"), dict) else {}
        error = data.get("error") if isinstance(data.get("error"), dict) else {}
        return TokenInfo(
            is_valid=data.get("is_valid") is True,
            expires_at=_when(data.get("expires_at")),
            data_access_expires_at=_when(data.get("data_access_expires_at")),
            message=str(error.get("message", "")),
        )

    def _long_lived(self, token: str, now: datetime) -> tuple[TokenSet, datetime | None]:
        """`fb_exchange_token` → a long-lived token and its data access expiry."""
        long = self._get(
            "oauth/access_token",
            {
                "grant_type": "fb_exchange_token",
                "client_id": self.app_id,
                "client_secret": self.app_secret,
                "fb_exchange_token": token,
            },
        )
        if not long.get("access_token"):
            raise OAuthError(PLATFORM, "malformed", "long-lived exchange without a token")
        access = str(long["access_token"])
        info = self.inspect(access)
        if long.get("expires_in"):
            expires = now + timedelta(seconds=int(long["expires_in"]))
        elif info.expires_at is not None:  # the exchange may leave expires_in out
            expires = info.expires_at
        else:
            raise OAuthError(PLATFORM, "malformed", "no expiry for the long-lived token")
        token_set = TokenSet(
            platform=PLATFORM,
            account_id="",
            access_token=access,
            refresh_token=None,
            access_expires_at=expires,
            refresh_expires_at=None,
            scopes=SCOPES,
        )
        return token_set, info.data_access_expires_at

    def renew(self, token: TokenSet) -> RenewedToken:
        """Exchange a still valid long-lived token for a new one of about 60 days.

        Raises OAuthError when the platform refuses (expired, invalidated, data access over):
        only a new login helps then.
        """
        fresh, data_access = self._long_lived(token.access_token, self.clock())
        return RenewedToken(replace(fresh, account_id=token.account_id), data_access)

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
        long, data_access = self._long_lived(str(short.get("access_token", "")), now)
        access = long.access_token
        pages = self.http.get(
            f"{self.base}/me/accounts",
            params={"fields": "id,name,instagram_business_account"},
            headers={"Authorization": f"Bearer {access}"},
        ).json()
        for page in pages.get("data") or []:
            linked = (page.get("instagram_business_account") or {}).get("id")
            if linked:
                token = replace(long, account_id=str(linked))
                name = str(page.get("name", ""))
                return DiscoveryLogin(str(linked), str(page["id"]), name, token, data_access)
        raise OAuthError(
            PLATFORM,
            "no_instagram_account",
            "none of this login's Facebook Pages is linked to an Instagram business account",
        )


def _when(epoch: object) -> datetime | None:
    """An epoch from /debug_token as a time; None for 0 ("never") or anything unreadable."""
    try:
        seconds = int(epoch)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return datetime.fromtimestamp(seconds, tz=UTC) if seconds > 0 else None
