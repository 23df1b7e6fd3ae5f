"""OAuth tokens as plain values; the vault encrypts them at rest elsewhere."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class TokenSet:
    platform: str
    account_id: str
    """Instagram: the professional account id (user_id); TikTok: the open_id."""
    access_token: str
    refresh_token: str | None
    access_expires_at: datetime
    refresh_expires_at: datetime | None
    scopes: tuple[str, ...]

    def access_expires_within(self, now: datetime, margin: timedelta) -> bool:
        return self.access_expires_at - now <= margin

    def __repr__(self) -> str:
        # Tokens are secrets: keep them out of logs and tracebacks.
        return (
            f"TokenSet(platform={self.platform!r}, account_id={self.account_id!r}, "
            f"access_expires_at={self.access_expires_at.isoformat()}, scopes={self.scopes!r})"
        )


@dataclass(frozen=True)
class AuthorizationRequest:
    """Where to send the user, and what to keep to check the callback."""

    url: str
    state: str
    code_verifier: str | None = None

    def __repr__(self) -> str:
        return f"AuthorizationRequest(url={self.url!r})"


class OAuthError(Exception):
    """A documented error answer from a platform's OAuth endpoint."""

    def __init__(self, platform: str, code: str | int, message: str) -> None:
        super().__init__(f"{platform} OAuth error {code}: {message}")
        self.platform = platform
        self.code = code
        self.message = message
