"""OAuth tokens at rest: AES-256-GCM ciphertext in ops.oauth_tokens, never plaintext."""

from __future__ import annotations

import psycopg

from analisa.core.crypto import TokenVault, VaultError
from connectors.tokens import TokenSet


def vault_for(settings) -> TokenVault:
    """The vault of these settings: the current key, and earlier ones for reading."""
    previous = settings.vault_previous_keys.get_secret_value().split(",")
    return TokenVault(settings.vault_key.get_secret_value(), [p for p in previous if p.strip()])


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
            access_expires_at, refresh_expires_at, scopes, key_id, updated_at)
        values (%s, %s, %s, %s, %s, %s, %s, %s, now())
        on conflict (platform, account_id) do update set
            access_token_enc = excluded.access_token_enc,
            refresh_token_enc =
                coalesce(excluded.refresh_token_enc, ops.oauth_tokens.refresh_token_enc),
            access_expires_at = excluded.access_expires_at,
            refresh_expires_at =
                coalesce(excluded.refresh_expires_at, ops.oauth_tokens.refresh_expires_at),
            scopes = excluded.scopes,
            key_id = excluded.key_id,
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
            vault.key_id,
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
    # a stored token is a usable one: the account no longer waits to reconnect
    conn.execute(
        "update ops.account_state set needs_reauth = false, reauth_reason = null "
        "where platform = %s and account_id = %s and needs_reauth",
        (token.platform, token.account_id),
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


def rotate_keys(conn: psycopg.Connection, vault: TokenVault) -> tuple[int, list[str]]:
    """Re-encrypt every token under the vault's current key, keeping its issue time.

    Returns (tokens re-encrypted, "platform/account: reason" of those that did not decrypt:
    their accounts are marked needs_reauth, the others are rotated regardless).
    """
    rows = conn.execute(
        "select platform, account_id, access_token_enc, refresh_token_enc from ops.oauth_tokens "
        "order by platform, account_id for update"
    ).fetchall()
    rotated, failed = 0, []
    for platform, account_id, access_enc, refresh_enc in rows:
        try:
            access = vault.decrypt(bytes(access_enc), context=_context(platform, account_id, "a"))
            refresh = (
                vault.decrypt(bytes(refresh_enc), context=_context(platform, account_id, "r"))
                if refresh_enc
                else None
            )
        except VaultError as exc:
            failed.append(f"{platform}/{account_id}: {exc}")
            conn.execute(
                "insert into ops.account_state (platform, account_id, needs_reauth, "
                "reauth_reason) values (%s, %s, true, %s) on conflict (platform, account_id) "
                "do update set needs_reauth = true, reauth_reason = excluded.reauth_reason",
                (platform, account_id, f"token does not decrypt: {exc}"),
            )
            continue
        conn.execute(
            "update ops.oauth_tokens set access_token_enc = %s, refresh_token_enc = %s, "
            "key_id = %s where platform = %s and account_id = %s",
            (
                vault.encrypt(access, context=_context(platform, account_id, "a")),
                vault.encrypt(refresh, context=_context(platform, account_id, "r"))
                if refresh is not None
                else None,
                vault.key_id,
                platform,
                account_id,
            ),
        )
        rotated += 1
    return rotated, failed


def save_discovery_login(conn: psycopg.Connection, vault: TokenVault, login) -> None:
    """Keep a Facebook Login (connectors.instagram.facebook_login.DiscoveryLogin), encrypted.

    A new login is a usable one: the public creators that waited for it are due again.
    """
    token = login.token
    conn.execute(
        """
        insert into ops.discovery_logins (business_account_id, page_id, page_name,
            access_token_enc, access_expires_at, data_access_expires_at, key_id, updated_at)
        values (%s, %s, %s, %s, %s, %s, %s, now())
        on conflict (business_account_id) do update set page_id = excluded.page_id,
            page_name = excluded.page_name, access_token_enc = excluded.access_token_enc,
            access_expires_at = excluded.access_expires_at,
            data_access_expires_at = excluded.data_access_expires_at, key_id = excluded.key_id,
            updated_at = now(), needs_reauth = false, reauth_reason = null
        """,
        (
            login.business_account_id,
            login.page_id,
            login.page_name,
            vault.encrypt(token.access_token, context=_context("facebook", token.account_id, "a")),
            token.access_expires_at,
            getattr(login, "data_access_expires_at", None),
            vault.key_id,
        ),
    )
    conn.execute(
        "update ops.account_state set needs_reauth = false, reauth_reason = null "
        "where kind = 'public' and needs_reauth and reauth_reason like 'Facebook Login: %%'"
    )


def load_discovery_token(conn: psycopg.Connection, vault: TokenVault) -> TokenSet | None:
    """The newest Facebook Login token still valid (None when no business account connected)."""
    row = conn.execute(
        "select business_account_id, access_token_enc, access_expires_at "
        "from ops.discovery_logins where access_expires_at > now() and not needs_reauth "
        "order by updated_at desc limit 1"
    ).fetchone()
    if row is None:
        return None
    account, enc, expires = row
    return TokenSet(
        platform="facebook",
        account_id=account,
        access_token=vault.decrypt(bytes(enc), context=_context("facebook", account, "a")),
        refresh_token=None,
        access_expires_at=expires,
        refresh_expires_at=None,
        scopes=(),
    )


def track_public(conn: psycopg.Connection, platform: str, account_id: str, username: str) -> None:
    """Track a creator who has not connected: collected through Business Discovery."""
    conn.execute(
        "insert into ops.accounts (platform, account_id, username) values (%s, %s, %s) "
        "on conflict (platform, account_id) do update set username = excluded.username, "
        "active = true",
        (platform, account_id, username),
    )
    conn.execute(
        "insert into ops.account_state (platform, account_id, kind) values (%s, %s, 'public') "
        "on conflict (platform, account_id) do update set kind = 'public'",
        (platform, account_id),
    )
