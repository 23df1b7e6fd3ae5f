"""Instagram (Graph API with Instagram Login): client, OAuth, error classification and the
collection routine, offered to the rest of the project as one `CONNECTOR`."""

from __future__ import annotations

from connectors.instagram import limits
from connectors.instagram.client import InstagramClient
from connectors.instagram.collect import collect
from connectors.instagram.discovery import collect_public
from connectors.instagram.errors import classify
from connectors.instagram.oauth import InstagramOAuth
from connectors.platform import PlatformApp, PlatformConnector, RateRules

CONNECTOR = PlatformConnector(
    platform="instagram",
    oauth=InstagramOAuth.from_settings,
    classify=classify,
    collect=collect,
    app=PlatformApp(
        "Instagram",
        "Instagram API with Instagram Login",
        "instagram_client_id",
        "instagram_client_secret",
    ),
    rates=RateRules(limits.scopes, limits.blocks_on, limits.usage),
    collect_public=collect_public,
)

__all__ = ["CONNECTOR", "InstagramClient", "InstagramOAuth", "classify"]
