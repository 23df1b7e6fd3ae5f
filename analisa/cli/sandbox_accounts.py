"""Connect every account of a running platform sandbox through the real OAuth flows.

This is wiring, so it lives with the commands: the connectors' connect flow (authorize URL,
state check, code exchange, long-lived token) meets the sandbox's consent page, where
`sandbox.consent.approve` plays the creator clicking "allow".
"""

from __future__ import annotations

from typing import NamedTuple

import httpx

from analisa.core.settings import Settings
from connectors.oauth_connect import connect_account
from connectors.tokens import TokenSet
from sandbox.consent import approve, sandbox_accounts

_INSTAGRAM_API_SUFFIX = "/instagram/api"


class SandboxConnection(NamedTuple):
    platform: str
    username: str
    token: TokenSet


def sandbox_base_url(settings: Settings) -> str:
    """The sandbox root, derived from the Instagram API URL that points into it."""
    api_url = settings.instagram_api_url.rstrip("/")
    if not api_url.endswith(_INSTAGRAM_API_SUFFIX):
        raise ValueError("INSTAGRAM_API_URL does not point at a platform sandbox")
    return api_url.removesuffix(_INSTAGRAM_API_SUFFIX)


def connect_sandbox_accounts(
    settings: Settings, http: httpx.Client, sandbox_url: str | None = None
) -> list[SandboxConnection]:
    """Tokens for every account the sandbox lists, platform by platform (Instagram long-lived)."""
    listing = sandbox_accounts(http, sandbox_url or sandbox_base_url(settings))
    connections = []
    for platform, accounts in listing.items():
        for account in accounts:
            username = account["username"]
            token = connect_account(
                settings, http, platform, lambda url, who=username: approve(http, url, who)
            )
            connections.append(SandboxConnection(platform, username, token))
    return connections
