"""Instagram (Graph API with Instagram Login): client, OAuth, error classification and the
collection routine, offered to the rest of the project as one `CONNECTOR`."""

from __future__ import annotations

from analisa.core.settings import Settings
from connectors.instagram.client import InstagramClient
from connectors.instagram.collect import collect
from connectors.instagram.errors import classify
from connectors.instagram.oauth import InstagramOAuth
from connectors.platform import PlatformConnector


def _app_configured(settings: Settings) -> bool:
    defaults = Settings.model_fields
    return (
        settings.instagram_client_id != defaults["instagram_client_id"].default
        and settings.instagram_client_secret.get_secret_value()
        != defaults["instagram_client_secret"].default.get_secret_value()
    )


CONNECTOR = PlatformConnector(
    platform="instagram",
    oauth=InstagramOAuth.from_settings,
    classify=classify,
    collect=collect,
    app_configured=_app_configured,
)

__all__ = ["CONNECTOR", "InstagramClient", "InstagramOAuth", "classify"]
