"""`analisa keys`: the vault's key ids and rotation of every stored token to a new key."""

from __future__ import annotations

import psycopg
import typer

from analisa.cli.runtime import console, fail, setup

app = typer.Typer(help="Vault keys: show key ids, rotate every token to the current key.")


@app.command("rotate")
def rotate() -> None:
    """Re-encrypt every OAuth token under ANALISA_VAULT_KEY. Put the old key in
    ANALISA_VAULT_PREVIOUS_KEYS first; a token no configured key opens marks its account
    needs_reauth and the others are rotated anyway. Exit 1 when some did not decrypt."""
    from connectors.token_store import rotate_keys, vault_for

    settings, url = setup()
    vault = vault_for(settings)
    from privacy.audit import os_actor, record

    with psycopg.connect(url) as conn, conn.transaction():
        rotated, failed = rotate_keys(conn, vault)
        record(
            conn,
            actor=os_actor(),
            action="key_rotation",
            outcome="failed" if failed else "ok",
            details={"key_id": vault.key_id, "rotated": rotated, "not_decrypted": len(failed)},
        )
    console.print(f"{rotated} token(s) now sealed with key id {vault.key_id}.")
    if failed:
        for line in failed:
            console.print(f"not decrypted: {line}", highlight=False, markup=False)
        raise fail(f"{len(failed)} token(s) did not decrypt; their accounts need to reconnect.")


@app.command("show")
def show() -> None:
    """Which key id sealed how many tokens (the current key's id first)."""
    from connectors.token_store import vault_for

    settings, url = setup()
    vault = vault_for(settings)
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select coalesce(key_id, '(no id)'), count(*) from ops.oauth_tokens group by 1 "
            "order by 1"
        ).fetchall()
    console.print(f"current key id: {vault.key_id}")
    for kid, n in rows:
        console.print(f"{kid}: {n} token(s)")
