"""Instagram (Graph API with Instagram Login): client, OAuth and error classification."""

from connectors.instagram.client import InstagramClient
from connectors.instagram.errors import classify
from connectors.instagram.oauth import InstagramOAuth

__all__ = ["InstagramClient", "InstagramOAuth", "classify"]
