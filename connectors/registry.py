"""The one place that knows which platform packages exist: platform name → its connector.

Adding a platform = a package with a CONNECTOR, one line here, and its endpoints in
analisa/core/catalog.py (a test holds the two lists equal).
"""

from __future__ import annotations

from connectors import instagram, tiktok
from connectors.platform import PlatformConnector

CONNECTORS: dict[str, PlatformConnector] = {
    c.platform: c for c in (instagram.CONNECTOR, tiktok.CONNECTOR)
}


class UnknownPlatformError(ValueError):
    pass


def connector(platform: str) -> PlatformConnector:
    try:
        return CONNECTORS[platform]
    except KeyError:
        known = ", ".join(CONNECTORS)
        raise UnknownPlatformError(
            f"unknown platform {platform!r} (expected one of {known})"
        ) from None
