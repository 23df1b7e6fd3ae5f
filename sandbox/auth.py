"""Authorization codes and tokens the sandbox has handed out, with the platforms' lifetimes."""

from __future__ import annotations

import secrets
import string
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from authlib.oauth2.rfc7636 import create_s256_code_challenge

INSTAGRAM_CODE_TTL = timedelta(hours=1)
TIKTOK_CODE_TTL = timedelta(minutes=10)
INSTAGRAM_SHORT_TTL = timedelta(hours=1)
INSTAGRAM_LONG_TTL = timedelta(days=60)
# Instagram refuses to refresh a long-lived token younger than this.
INSTAGRAM_REFRESH_MIN_AGE = timedelta(hours=24)
TIKTOK_ACCESS_TTL = timedelta(hours=24)
TIKTOK_REFRESH_TTL = timedelta(days=365)

INSTAGRAM_SCOPES = ("instagram_business_basic", "instagram_business_manage_insights")
TIKTOK_SCOPES = ("user.info.basic", "user.info.profile", "user.info.stats", "video.list")

_ALPHANUM = string.ascii_letters + string.digits


class AuthFailure(Exception):
    """Why a code or token was refused; each platform words it in its own error shape."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class CodeGrant:
    code: str
    platform: str
    account_id: str
    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    code_challenge: str | None
    code_challenge_method: str | None
    issued_at: datetime
    expires_at: datetime
    used: bool = False


@dataclass
class TokenGrant:
    token: str
    platform: str
    kind: str
    """instagram: "short" or "long"; tiktok: "access" or "refresh"."""
    account_id: str
    scopes: tuple[str, ...]
    issued_at: datetime
    expires_at: datetime
    revoked: bool = False
    data_access_expires_at: datetime | None = None
    """Facebook only: when the app's access to the person's data ends (90 days after they
    last logged in); renewing the token does not move it."""


def _random(prefix: str, length: int) -> str:
    # Tokens are secrets, not data: they come from `secrets`, never from the world's seed.
    return prefix + "".join(secrets.choice(_ALPHANUM) for _ in range(length))


class AuthStore:
    """Codes and tokens; callers hold the world lock."""

    def __init__(self) -> None:
        self.codes: dict[str, CodeGrant] = {}
        self.tokens: dict[str, TokenGrant] = {}
        self.instagram_code_exchanges = 0

    def create_code(
        self,
        platform: str,
        account_id: str,
        client_id: str,
        redirect_uri: str,
        scopes: tuple[str, ...],
        code_challenge: str | None,
        code_challenge_method: str | None,
        now: datetime,
    ) -> CodeGrant:
        ttl = INSTAGRAM_CODE_TTL if platform == "instagram" else TIKTOK_CODE_TTL
        grant = CodeGrant(
            code=_random("AQ" if platform == "instagram" else "", 120),
            platform=platform,
            account_id=account_id,
            client_id=client_id,
            redirect_uri=redirect_uri,
            scopes=scopes,
            code_challenge=code_challenge,
            code_challenge_method=code_challenge_method,
            issued_at=now,
            expires_at=now + ttl,
        )
        self.codes[grant.code] = grant
        return grant

    def redeem_code(
        self,
        platform: str,
        code: str,
        redirect_uri: str,
        code_verifier: str | None,
        now: datetime,
    ) -> CodeGrant:
        """The code's grant, marked used; AuthFailure when it cannot be exchanged."""
        grant = self.codes.get(code)
        if grant is None or grant.platform != platform:
            raise AuthFailure("code_unknown")
        if grant.used:
            raise AuthFailure("code_used")
        if now >= grant.expires_at:
            raise AuthFailure("code_expired")
        if redirect_uri != grant.redirect_uri:
            raise AuthFailure("redirect_mismatch")
        if grant.code_challenge is not None and (
            not code_verifier or create_s256_code_challenge(code_verifier) != grant.code_challenge
        ):
            raise AuthFailure("verifier_invalid")
        grant.used = True
        return grant

    def _add(self, grant: TokenGrant) -> TokenGrant:
        self.tokens[grant.token] = grant
        return grant

    def issue_instagram(
        self,
        account_id: str,
        scopes: Iterable[str] | None,
        now: datetime,
        long_lived: bool,
    ) -> TokenGrant:
        return self._add(
            TokenGrant(
                token=_random("IGAA", 150),
                platform="instagram",
                kind="long" if long_lived else "short",
                account_id=account_id,
                scopes=tuple(scopes if scopes is not None else INSTAGRAM_SCOPES),
                issued_at=now,
                expires_at=now + (INSTAGRAM_LONG_TTL if long_lived else INSTAGRAM_SHORT_TTL),
            )
        )

    def issue_tiktok(
        self, account_id: str, scopes: Iterable[str] | None, now: datetime
    ) -> tuple[TokenGrant, TokenGrant]:
        scopes = tuple(scopes if scopes is not None else TIKTOK_SCOPES)
        access_expiry, refresh_expiry = now + TIKTOK_ACCESS_TTL, now + TIKTOK_REFRESH_TTL
        access = TokenGrant(
            _random("act.", 60), "tiktok", "access", account_id, scopes, now, access_expiry
        )
        refresh = TokenGrant(
            _random("rft.", 60), "tiktok", "refresh", account_id, scopes, now, refresh_expiry
        )
        return self._add(access), self._add(refresh)

    def revoke(self, platform: str, account_id: str) -> int:
        """Invalidate every token of an account (a changed password, a removed app)."""
        grants = [
            g for g in self.tokens.values() if g.platform == platform and g.account_id == account_id
        ]
        for grant in grants:
            grant.revoked = True
        return len(grants)

    def lookup(self, platform: str, token: str | None, kinds: tuple[str, ...], now: datetime):
        """The live grant for a token; AuthFailure("token_unknown"|"token_expired") otherwise."""
        grant = self.tokens.get(token or "")
        if grant is None or grant.platform != platform or grant.kind not in kinds:
            raise AuthFailure("token_unknown")
        if grant.revoked:
            raise AuthFailure("token_revoked" if platform == "facebook" else "token_unknown")
        if now >= grant.expires_at:
            raise AuthFailure("token_expired")
        if grant.data_access_expires_at is not None and now >= grant.data_access_expires_at:
            raise AuthFailure("data_access_expired")
        return grant
