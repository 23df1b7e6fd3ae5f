"""The brand's Facebook Login (Business Discovery) renewed before it lapses, or marked with why not.

What the platform allows (Meta's access token documentation): a long-lived user token lasts
about 60 days and, while still valid, can be exchanged again (`fb_exchange_token`) for a new
one of about 60 days; an expired or invalidated token cannot be exchanged. Independently, the
app's access to the person's data ends 90 days after their last login
(`data_access_expires_at` of `/debug_token`); no renewal moves it, only a new login does.

So, before every public creator's round: a token inside the refresh window before its expiry,
renewed at least 24 h earlier, is exchanged again, one renewal per business account at a time
(a transaction-level advisory lock, the token read again under it, as connectors/token_refresh.py
does for creators' tokens), and the new token is stored before it is used. When the token
expired, its data access ended, or the platform refuses the exchange, the login is marked
`needs_reauth` with the reason, and so is every public creator while no other login works:
their tasks are parked with that reason, the rest of the run goes on, and `analisa accounts
list` says what the brand must do (log in again: `analisa track login`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
import psycopg

from analisa.core.crypto import TokenVault
from connectors.instagram.facebook_login import FacebookLogin
from connectors.token_refresh import NeedsReauth
from connectors.tokens import TokenSet

log = logging.getLogger(__name__)

MIN_AGE_FOR_RENEWAL = timedelta(hours=24)
LOGIN_AGAIN = "the brand must log in again: analisa track login"
REASON_PREFIX = "Facebook Login: "
"""How a public creator's needs_reauth reason starts when the brand's login is the cause."""


@dataclass(frozen=True)
class DiscoveryLoginStatus:
    """One brand business login, as `analisa accounts list` shows it."""

    business_account_id: str
    page_name: str | None
    access_expires_at: datetime | None
    data_access_expires_at: datetime | None
    renewed_at: datetime
    needs_reauth: bool
    reauth_reason: str | None


def login_statuses(conn: psycopg.Connection) -> list[DiscoveryLoginStatus]:
    rows = conn.execute(
        "select business_account_id, page_name, access_expires_at, data_access_expires_at, "
        "updated_at, needs_reauth, reauth_reason from ops.discovery_logins "
        "order by updated_at desc"
    ).fetchall()
    return [DiscoveryLoginStatus(*r) for r in rows]


def _context(account_id: str) -> str:
    return f"facebook:{account_id}:a"  # the vault context token_store uses for these tokens


def _token(vault: TokenVault, account_id: str, enc: bytes, expires: datetime) -> TokenSet:
    return TokenSet(
        platform="facebook",
        account_id=account_id,
        access_token=vault.decrypt(bytes(enc), context=_context(account_id)),
        refresh_token=None,
        access_expires_at=expires,
        refresh_expires_at=None,
        scopes=(),
    )


def load_usable(conn: psycopg.Connection, vault: TokenVault) -> tuple[TokenSet | None, str]:
    """The newest login not waiting for a new one, or None and why there is none."""
    row = conn.execute(
        "select business_account_id, access_token_enc, access_expires_at "
        "from ops.discovery_logins where not needs_reauth and access_expires_at is not null "
        "order by updated_at desc limit 1"
    ).fetchone()
    if row is not None:
        return _token(vault, *row), ""
    marked = conn.execute(
        "select page_name, reauth_reason from ops.discovery_logins where needs_reauth "
        "order by updated_at desc limit 1"
    ).fetchone()
    if marked is None:
        return None, "no brand business account is connected through Facebook Login: " + (
            "run analisa track login"
        )
    return None, f"{REASON_PREFIX}{marked[1]}"


def mark_needs_reauth(conn: psycopg.Connection, business_account_id: str, reason: str) -> None:
    """Mark the login; while no other login works, every public creator waits for a new one."""
    conn.execute(
        "update ops.discovery_logins set needs_reauth = true, reauth_reason = %s "
        "where business_account_id = %s",
        (reason[:500], business_account_id),
    )
    conn.execute(
        "update ops.account_state set needs_reauth = true, reauth_reason = %s "
        "where kind = 'public' and not exists "
        "(select 1 from ops.discovery_logins where not needs_reauth)",
        ((REASON_PREFIX + reason)[:500],),
    )


def renewal_due(token: TokenSet, renewed_at: datetime, now: datetime, window: timedelta) -> bool:
    if token.access_expires_at <= now:
        return False  # expired: the platform refuses the exchange
    return now - renewed_at >= MIN_AGE_FOR_RENEWAL and token.access_expires_at - now <= window


def _state(conn: psycopg.Connection, business_account_id: str):
    return conn.execute(
        "select access_token_enc, access_expires_at, data_access_expires_at, updated_at, "
        "needs_reauth, reauth_reason from ops.discovery_logins where business_account_id = %s",
        (business_account_id,),
    ).fetchone()


def _give_up(db_url: str, business_account_id: str, reason: str) -> NeedsReauth:
    with psycopg.connect(db_url) as conn, conn.transaction():
        mark_needs_reauth(conn, business_account_id, reason)
    log.warning("the Facebook Login of %s needs a new login: %s", business_account_id, reason)
    return NeedsReauth(reason)


def _day(when: datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M UTC")


def renew_if_due(
    settings,
    http: httpx.Client,
    db_url: str,
    vault: TokenVault,
    token: TokenSet,
    now: datetime,
    window: timedelta,
) -> TokenSet:
    """The login's token to use now, renewed first when due.

    Raises NeedsReauth, after marking the login (and the public creators while no other login
    works), when it cannot be used or renewed.
    """
    account = token.account_id
    with psycopg.connect(db_url) as conn:
        state = _state(conn, account)
    if state is None:
        raise NeedsReauth("the Facebook Login was removed: " + LOGIN_AGAIN)
    _enc, _expires, data_access, renewed_at, _marked, _reason = state
    if data_access is not None and data_access <= now:
        raise _give_up(
            db_url,
            account,
            f"its data access ended on {_day(data_access)} (90 days after the login; no "
            f"renewal extends it): {LOGIN_AGAIN}",
        )
    if token.access_expires_at <= now:
        raise _give_up(
            db_url,
            account,
            f"the token expired on {_day(token.access_expires_at)} before it was renewed: "
            + LOGIN_AGAIN,
        )
    if not renewal_due(token, renewed_at, now, window):
        return token
    refused: Exception | None = None
    with psycopg.connect(db_url) as conn, conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (f"refresh:facebook:{account}",))
        state = _state(conn, account)
        if state is None:
            raise NeedsReauth("the Facebook Login was removed: " + LOGIN_AGAIN)
        enc, expires, _data_access, renewed_at, marked, reason = state
        if marked:
            raise NeedsReauth(reason or LOGIN_AGAIN)
        current = _token(vault, account, enc, expires)
        if current.access_token != token.access_token and not renewal_due(
            current, renewed_at, now, window
        ):
            return current  # another worker renewed it while we waited for the lock
        flow = FacebookLogin.from_settings(settings, http, clock=lambda: now)
        try:
            renewed = flow.renew(current)
        except Exception as exc:  # any refusal: only a new login helps
            refused = exc
        else:
            # stored in the lock's transaction, before anyone uses it
            conn.execute(
                "update ops.discovery_logins set access_token_enc = %s, access_expires_at = %s, "
                "data_access_expires_at = coalesce(%s, data_access_expires_at), key_id = %s, "
                "updated_at = now(), needs_reauth = false, reauth_reason = null "
                "where business_account_id = %s",
                (
                    vault.encrypt(renewed.token.access_token, context=_context(account)),
                    renewed.token.access_expires_at,
                    renewed.data_access_expires_at,
                    vault.key_id,
                    account,
                ),
            )
    if refused is not None:
        # marked in a transaction of its own, once the lock is released
        raise _give_up(db_url, account, f"renewal refused ({refused}): {LOGIN_AGAIN}")
    fresh = renewed.token
    log.info(
        "renewed the Facebook Login token of %s, valid until %s",
        account,
        fresh.access_expires_at.isoformat(),
    )
    ends = renewed.data_access_expires_at
    if ends is not None and ends - now <= window:
        log.warning(
            "the Facebook Login of %s loses its data access on %s: %s",
            account,
            _day(ends),
            LOGIN_AGAIN,
        )
    return fresh
