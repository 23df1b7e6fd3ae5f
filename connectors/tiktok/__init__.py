"""TikTok (Login Kit and Display API v2): client, OAuth, error classification and the
collection routine, offered to the rest of the project as one `CONNECTOR`."""

from __future__ import annotations

from analisa.core.settings import Settings
from connectors.platform import PlatformConnector
from connectors.tiktok.client import TikTokClient
from connectors.tiktok.collect import collect
from connectors.tiktok.errors import classify
from connectors.tiktok.oauth import TikTokOAuth


def _app_configured(settings: Settings) -> bool:
    defaults = Settings.model_fields
    return (
        settings.tiktok_client_key != defaults["tiktok_client_key"].default
        and settings.tiktok_client_secret.get_secret_value()
        != defaults["tiktok_client_secret"].default.get_secret_value()
    )


CONNECTOR = PlatformConnector(
    platform="tiktok",
    oauth=TikTokOAuth.from_settings,
    classify=classify,
    collect=collect,
    app_configured=_app_configured,
)

__all__ = ["CONNECTOR", "TikTokClient", "TikTokOAuth", "classify"]
