"""OAuth tokens at rest: AES-256-GCM ciphertext in ops.oauth_tokens, never plaintext."""

from __future__ import annotations

import psycopg

from analisa.core.crypto import TokenVault
from connectors.tokens import TokenSet


def _context(platform: str, account_id: str, which: str) -> str:
    return f"{platform}:{account_id}:{which}"


def save_token(
    conn: psycopg.Connection, vault: TokenVault, token: TokenSet, username: str | None = None
) -> None:
    """Store the newest token set (TikTok rotates refresh tokens: the newest must win)."""
    access = vault.encrypt(
        token.access_token, context=_context(token.platform, token.account_id, "a")
    )
    refresh = (
        vault.encrypt(token.refresh_token, context=_context(token.platform, token.account_id, "r"))
        if token.refresh_token
        else None
    )
    conn.execute(
        """
        insert into ops.oauth_tokens (platform, account_id, access_token_enc, refresh_token_enc,
            access_expires_at, refresh_expires_at, scopes, updated_at)
        values (%s, %s, %s, %s, %s, %s, %s, now())
        on conflict (platform, account_id) do update set
            access_token_enc = excluded.access_token_enc,
            refresh_token_enc =
                coalesce(excluded.refresh_token_enc, ops.oauth_tokens.refresh_token_enc),
            access_expires_at = excluded.access_expires_at,
            refresh_expires_at =
                coalesce(excluded.refresh_expires_at, ops.oauth_tokens.refresh_expires_at),
            scopes = excluded.scopes,
            updated_at = now()
        """,
        (
            token.platform,
            token.account_id,
            access,
            refresh,
            token.access_expires_at,
            token.refresh_expires_at,
            ",".join(token.scopes),
        ),
    )
    conn.execute(
        """
        insert into ops.accounts (platform, account_id, username) values (%s, %s, %s)
        on conflict (platform, account_id) do update
            set username = coalesce(excluded.username, ops.accounts.username), active = true
        """,
        (token.platform, token.account_id, username),
    )


def load_token(
    conn: psycopg.Connection, vault: TokenVault, platform: str, account_id: str
) -> TokenSet | None:
    row = conn.execute(
        "select access_token_enc, refresh_token_enc, access_expires_at, refresh_expires_at, scopes "
        "from ops.oauth_tokens where platform = %s and account_id = %s",
        (platform, account_id),
    ).fetchone()
    if row is None:
        return None
    access_enc, refresh_enc, access_exp, refresh_exp, scopes = row
    return TokenSet(
        platform=platform,
        account_id=account_id,
        access_token=vault.decrypt(bytes(access_enc), context=_context(platform, account_id, "a")),
        refresh_token=(
            vault.decrypt(bytes(refresh_enc), context=_context(platform, account_id, "r"))
            if refresh_enc
            else None
        ),
        access_expires_at=access_exp,
        refresh_expires_at=refresh_exp,
        scopes=tuple(s for s in (scopes or "").split(",") if s),
    )


def active_accounts(conn: psycopg.Connection, platform: str | None = None) -> list[tuple[str, str]]:
    rows = conn.execute(
        "select platform, account_id from ops.accounts where active"
        + (" and platform = %s" if platform else "")
        + " order by platform, account_id",
        (platform,) if platform else (),
    ).fetchall()
    return [(r[0], r[1]) for r in rows]
