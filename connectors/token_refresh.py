"""Tokens that never lapse: refreshed before they expire, one refresh per account at a time.

- A token with a refresh token (TikTok) is refreshed once its access token is within
  `min(window, REFRESH_TOKEN_MARGIN)` of expiry (read from `expires_in`); the rotated refresh
  token is committed before the new access token is used, so a crash cannot strand it.
- A token refreshed with itself (Instagram long-lived) is refreshed once it is older than 24 h
  (the platform refuses younger ones) and inside the configured window before expiry; an
  expired one cannot be refreshed at all, which is why this runs before every round.
- One refresh per account at a time: a transaction-level advisory lock, and the token is read
  again under it, so the second of two concurrent refreshes finds the fresh token and makes no
  call (a rotated refresh token would otherwise be spent twice: `invalid_grant`).
- A refusal marks the account `needs_reauth` with the reason; the planner skips it until the
  account connects again. The rest of the run goes on.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import psycopg

from analisa.core.crypto import TokenVault
from connectors.platform import OAuthFlow
from connectors.token_store import load_token, save_token
from connectors.tokens import TokenSet

log = logging.getLogger(__name__)

MIN_AGE_FOR_SELF_REFRESH = timedelta(hours=24)
REFRESH_TOKEN_MARGIN = timedelta(minutes=10)


class NeedsReauth(Exception):
    """The token cannot be refreshed: a human must connect the account again."""


def refresh_due(token: TokenSet, issued_at: datetime, now: datetime, window: timedelta) -> bool:
    if token.refresh_token:
        return token.access_expires_at - now <= min(window, REFRESH_TOKEN_MARGIN)
    if token.access_expires_at <= now:
        return False  # expired: the platform refuses; refresh_if_due reports it
    return now - issued_at >= MIN_AGE_FOR_SELF_REFRESH and token.access_expires_at - now <= window


def _issued_at(conn: psycopg.Connection, platform: str, account_id: str) -> datetime | None:
    row = conn.execute(
        "select updated_at from ops.oauth_tokens where platform = %s and account_id = %s",
        (platform, account_id),
    ).fetchone()
    return row[0] if row else None


def mark_needs_reauth(conn: psycopg.Connection, platform: str, account_id: str, reason: str):
    conn.execute(
        "insert into ops.account_state (platform, account_id, needs_reauth, reauth_reason) "
        "values (%s, %s, true, %s) on conflict (platform, account_id) do update set "
        "needs_reauth = true, reauth_reason = excluded.reauth_reason",
        (platform, account_id, reason[:500]),
    )


def refresh_if_due(
    db_url: str,
    vault: TokenVault,
    oauth: OAuthFlow,
    token: TokenSet,
    now: datetime,
    window: timedelta,
    *,
    force: bool = False,
) -> TokenSet:
    """The token to use now: refreshed first when due (or `force`, after a 401).

    Raises NeedsReauth (after marking the account) when the platform refuses.
    """
    platform, account = token.platform, token.account_id
    with psycopg.connect(db_url) as conn:
        issued = _issued_at(conn, platform, account) or now
    if not force and not refresh_due(token, issued, now, window):
        if not token.refresh_token and token.access_expires_at <= now:
            _give_up(db_url, token, "the long-lived token expired before it was refreshed")
        return token
    refused: Exception | None = None
    with psycopg.connect(db_url) as conn, conn.transaction():
        lock = f"refresh:{platform}:{account}"
        conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (lock,))
        current = load_token(conn, vault, platform, account)
        if current is None:
            raise NeedsReauth("the token was removed")
        issued = _issued_at(conn, platform, account) or now
        if current.access_token != token.access_token and not refresh_due(
            current, issued, now, window
        ):
            return current  # another worker refreshed it while we waited for the lock
        try:
            fresh = oauth.refresh(current)
        except Exception as exc:  # any refusal: a human must reconnect the account
            refused = exc
        else:
            # committed with the lock's transaction: the rotated refresh token is stored
            # before use
            save_token(conn, vault, fresh)
            conn.execute(
                "update ops.account_state set needs_reauth = false, reauth_reason = null "
                "where platform = %s and account_id = %s",
                (platform, account),
            )
    if refused is not None:
        # marked once the lock's transaction ended: raised inside it, the mark would be
        # rolled back with it
        _give_up(db_url, token, f"token refresh refused: {refused}")
    log.info(
        "refreshed the %s token of %s, valid until %s",
        platform,
        account,
        fresh.access_expires_at.isoformat(),
    )
    return fresh


def _give_up(db_url: str, token: TokenSet, reason: str) -> None:
    with psycopg.connect(db_url) as conn, conn.transaction():
        mark_needs_reauth(conn, token.platform, token.account_id, reason)
    raise NeedsReauth(reason)
