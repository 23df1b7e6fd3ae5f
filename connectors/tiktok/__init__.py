"""TikTok (Login Kit and Display API v2): client, OAuth and error classification."""

from connectors.tiktok.client import TikTokClient
from connectors.tiktok.errors import classify
from connectors.tiktok.oauth import TikTokOAuth

__all__ = ["TikTokClient", "TikTokOAuth", "classify"]
