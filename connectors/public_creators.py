"""Creators who have not connected: a brand's Facebook Login, then tracking by username.

`login` runs Facebook Login (consent URL → redirect → long-lived user token → the Page's
Instagram business account) and keeps the token encrypted; `track` resolves a username through
one Business Discovery call and registers the creator as a public account, which the planner
and the workers then collect like any other (connectors/instagram/discovery.py).
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import psycopg

from analisa.core.settings import Settings
from connectors import suppression
from connectors.instagram.client import InstagramClient
from connectors.instagram.facebook_login import DiscoveryLogin, FacebookLogin
from connectors.oauth_connect import code_from_redirect
from connectors.token_store import (
    load_discovery_token,
    save_discovery_login,
    track_public,
    vault_for,
)


class TrackError(RuntimeError):
    """Why a creator cannot be tracked (no login, not a professional account, ...)."""


def login(
    settings: Settings, http: httpx.Client, db_url: str, ask: Callable[[str], str]
) -> DiscoveryLogin:
    """`ask` shows the consent URL and returns the URL the browser was redirected to."""
    flow = FacebookLogin.from_settings(settings, http)
    request = flow.authorization_request()
    code = code_from_redirect("facebook", request, ask(request.url))
    found = flow.connect(code)
    with psycopg.connect(db_url) as conn, conn.transaction():
        save_discovery_login(conn, vault_for(settings), found)
    return found


def track(settings: Settings, http: httpx.Client, db_url: str, username: str) -> str:
    """Register a public Instagram creator by username; returns the creator's account id."""
    username = username.strip().lstrip("@")
    key = settings.pseudonym_key.get_secret_value()
    erased = TrackError(
        "This creator's data was erased at their request: they are not tracked again "
        "unless they connect their account themselves."
    )
    with psycopg.connect(db_url) as conn:
        with conn.transaction():
            listed = suppression.load(conn, key)
        if suppression.username_token(username, key) in listed.usernames:
            raise erased
        token = load_discovery_token(conn, vault_for(settings))
    if token is None:
        raise TrackError(
            "No brand business account is connected through Facebook Login: "
            "run analisa track login first."
        )
    client = InstagramClient(
        http,
        settings.facebook_graph_url,
        settings.instagram_graph_version,
        token.access_token,
        token.account_id,
        round_id=f"track:{username}",
    )
    record = client.discovery_page(username, f"username:{username}", limit=1)
    body = record.body if isinstance(record.body, dict) else {}
    found = body.get("business_discovery")
    if not isinstance(found, dict) or not found.get("id"):
        error = body.get("error") if isinstance(body.get("error"), dict) else {}
        raise TrackError(
            f"Business Discovery cannot read {username!r}: "
            f"{error.get('message') or 'no answer'} (only professional accounts are public)"
        )
    creator_id = str(found["id"])
    with psycopg.connect(db_url) as conn, conn.transaction():
        if suppression.is_suppressed(conn, key, "instagram", creator_id):
            raise erased
        track_public(conn, "instagram", creator_id, username)
    return creator_id
