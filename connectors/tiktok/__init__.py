"""TikTok (Login Kit and Display API v2): client, OAuth, error classification and the
collection routine, offered to the rest of the project as one `CONNECTOR`."""

from __future__ import annotations

from connectors.platform import PlatformApp, PlatformConnector, RateRules
from connectors.tiktok import limits
from connectors.tiktok.client import TikTokClient
from connectors.tiktok.collect import collect
from connectors.tiktok.errors import classify
from connectors.tiktok.oauth import TikTokOAuth

CONNECTOR = PlatformConnector(
    platform="tiktok",
    oauth=TikTokOAuth.from_settings,
    classify=classify,
    collect=collect,
    app=PlatformApp(
        "TikTok", "Login Kit + Display API", "tiktok_client_key", "tiktok_client_secret"
    ),
    rates=RateRules(limits.scopes, limits.blocks_on, limits.usage),
)

__all__ = ["CONNECTOR", "TikTokClient", "TikTokOAuth", "classify"]
