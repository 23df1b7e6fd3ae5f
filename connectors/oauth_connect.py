"""Connect a real account: send the creator to the platform's consent page, take back the URL
the platform redirected to, check its state, exchange the code and keep the token encrypted.

Used by `analisa connect` (a human pastes the redirect); a web callback can call the same
`finish` with the request's URL.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import httpx

from analisa.core.settings import Settings
from connectors.platform import OAuthFlow
from connectors.registry import connector
from connectors.tokens import AuthorizationRequest, OAuthError, TokenSet


def _oauth(settings: Settings, http: httpx.Client, platform: str) -> OAuthFlow:
    return connector(platform).oauth(settings, http)


def start(settings: Settings, http: httpx.Client, platform: str) -> AuthorizationRequest:
    return _oauth(settings, http, platform).authorization_request()


def code_from_redirect(platform: str, request: AuthorizationRequest, redirected_to: str) -> str:
    """The code of the callback URL, after checking the state we sent (CSRF protection)."""
    query = parse_qs(urlsplit(redirected_to.strip()).query)
    if "error" in query:
        reason = query.get("error_description", query["error"])[0]
        raise OAuthError(platform, query["error"][0], f"the creator did not connect: {reason}")
    if query.get("state", [None])[0] != request.state:
        raise OAuthError(platform, "state", "the redirect's state does not match this request")
    code = query.get("code", [None])[0]
    if not code:
        raise OAuthError(platform, "no_code", "the redirect URL carries no code")
    return code


def finish(
    settings: Settings,
    http: httpx.Client,
    platform: str,
    request: AuthorizationRequest,
    redirected_to: str,
) -> TokenSet:
    oauth = _oauth(settings, http, platform)
    code = code_from_redirect(platform, request, redirected_to)
    return oauth.connect(code, request.code_verifier)


def connect_account(
    settings: Settings, http: httpx.Client, platform: str, ask: Callable[[str], str]
) -> TokenSet:
    """`ask` shows the consent URL and returns the URL the browser was redirected to."""
    request = start(settings, http, platform)
    return finish(settings, http, platform, request, ask(request.url))
