"""Connect every sandbox account through the real OAuth flows, as a user clicking "allow" would.

Used by `analisa demo` and tests: it exercises the same authorize URL, callback checks and code
exchanges as production, with the sandbox's `login_as` standing in for the user's login.
"""

from __future__ import annotations

from typing import Any, NamedTuple
from urllib.parse import parse_qs, urlsplit

import httpx

from connectors.instagram.oauth import InstagramOAuth
from connectors.tiktok.oauth import TikTokOAuth
from connectors.tokens import AuthorizationRequest, OAuthError, TokenSet

_INSTAGRAM_API_SUFFIX = "/instagram/api"


class SandboxConnection(NamedTuple):
    platform: str
    username: str
    token: TokenSet


def sandbox_base_url(settings: Any) -> str:
    """The sandbox root, derived from the Instagram API URL that points into it."""
    api_url = settings.instagram_api_url.rstrip("/")
    if not api_url.endswith(_INSTAGRAM_API_SUFFIX):
        raise ValueError(f"INSTAGRAM_API_URL {api_url!r} does not point at a platform sandbox")
    return api_url.removesuffix(_INSTAGRAM_API_SUFFIX)


def authorize_code(
    http: httpx.Client, request: AuthorizationRequest, redirect_uri: str, login_as: str
) -> str:
    """Open the authorize URL as `login_as`, check the redirect and its state; the code."""
    # Added to the URL itself: httpx's `params` would replace the authorize URL's query.
    url = httpx.URL(request.url).copy_add_param("login_as", login_as)
    response = http.get(url, follow_redirects=False)
    location = response.headers.get("location", "")
    if response.status_code not in (301, 302, 303, 307) or not location:
        message = f"authorize did not redirect: {response.text}"
        raise OAuthError("sandbox", response.status_code, message)
    parts = urlsplit(location)  # the fragment ("#_" on Instagram) is dropped here
    if f"{parts.scheme}://{parts.netloc}{parts.path}" != redirect_uri.split("?")[0]:
        raise OAuthError("sandbox", "redirect_uri", f"redirected elsewhere: {location}")
    query = parse_qs(parts.query)
    if query.get("state", [None])[0] != request.state:
        raise OAuthError("sandbox", "state", "the callback's state does not match")
    if "error" in query:
        raise OAuthError("sandbox", query["error"][0], query.get("error_description", [""])[0])
    code = query.get("code", [None])[0]
    if not code:
        raise OAuthError("sandbox", "no_code", "the callback carries no code")
    return code


def connect_sandbox_accounts(
    settings: Any, http: httpx.Client, sandbox_url: str | None = None
) -> list[SandboxConnection]:
    """Tokens for every account the sandbox lists (Instagram ones long-lived)."""
    base = (sandbox_url or sandbox_base_url(settings)).rstrip("/")
    listing = http.get(f"{base}/_sandbox/accounts")
    listing.raise_for_status()
    accounts = listing.json()
    connections: list[SandboxConnection] = []
    instagram = InstagramOAuth.from_settings(settings, http)
    for account in accounts.get("instagram", []):
        request = instagram.authorization_request()
        code = authorize_code(http, request, instagram.redirect_uri, account["username"])
        token = instagram.connect(code)
        connections.append(SandboxConnection("instagram", account["username"], token))
    tiktok = TikTokOAuth.from_settings(settings, http)
    for account in accounts.get("tiktok", []):
        request = tiktok.authorization_request()
        code = authorize_code(http, request, tiktok.redirect_uri, account["username"])
        token = tiktok.exchange_code(code, request.code_verifier)
        connections.append(SandboxConnection("tiktok", account["username"], token))
    return connections
