"""`connect`: a creator grants access through the platform's consent page; the token is kept
encrypted, and `analisa collect` visits the account from then on."""

from __future__ import annotations

from typing import Annotated, Literal

import typer

from analisa.cli.runtime import console, fail, load_settings, setup
from analisa.core.catalog import PLATFORMS
from analisa.core.settings import Settings
from connectors.registry import connector

Platform = Literal[PLATFORMS]  # type: ignore[valid-type]  # the catalog's list, as choices


def _plain(value: object) -> object:
    return value.get_secret_value() if hasattr(value, "get_secret_value") else value


def placeholder_variables(settings: Settings, platform: str) -> list[str]:
    """The app's environment variables still at their development value, which only the
    sandbox accepts: with them a real consent page answers "invalid client"."""
    fields = Settings.model_fields
    return [
        fields[name].alias or name
        for name in connector(platform).app.fields
        if _plain(getattr(settings, name)) == _plain(fields[name].default)
    ]


def not_configured_message(platform: str, variables: list[str]) -> str:
    app = connector(platform).app
    id_var, secret_var = (Settings.model_fields[f].alias for f in app.fields)
    verb = "is" if len(variables) == 1 else "are"
    return (
        f"The {app.title} app is not configured: {' and '.join(variables)} {verb} still the "
        "development placeholder, which only the sandbox accepts.\n"
        f"Register an app for {app.title} ({app.product}) and set:\n"
        f"  {id_var:<26}the app's id\n"
        f"  {secret_var:<26}the app's secret\n"
        f"  {'OAUTH_REDIRECT_URI':<26}the redirect URL registered with the app"
    )


def connect(
    platform: Annotated[Platform, typer.Argument(help="The platform of the account to connect.")],
) -> None:
    """Connect a creator's account: open the consent URL, approve, paste back the URL the
    browser was redirected to; the token is stored encrypted for `analisa collect`."""
    import httpx
    import psycopg

    from analisa.core.crypto import TokenVault
    from connectors.oauth_connect import connect_account
    from connectors.token_store import save_token
    from connectors.tokens import OAuthError

    placeholders = placeholder_variables(load_settings(), platform)
    if placeholders:
        raise fail(not_configured_message(platform, placeholders))
    settings, url = setup()

    def ask(consent_url: str) -> str:
        console.print(f"Open this URL and approve access:\n{consent_url}", soft_wrap=True)
        return typer.prompt("Paste the URL your browser was redirected to")

    try:
        with httpx.Client(timeout=30) as http:
            token = connect_account(settings, http, platform, ask)
    except (OAuthError, ValueError) as exc:
        raise fail(f"not connected: {exc}", style="red") from exc
    from privacy.audit import os_actor
    from privacy.suppression import lift

    with psycopg.connect(url) as conn, conn.transaction():
        save_token(conn, TokenVault(settings.vault_key.get_secret_value()), token)
        # the owner connected themselves: an erasure's suppression ends here (audited)
        lifted = lift(
            conn,
            settings.pseudonym_key.get_secret_value(),
            platform,
            token.account_id,
            actor=os_actor(),
        )
    if lifted:
        console.print("the account was suppressed after an erasure; connecting lifts that")
    console.print(
        f"connected {platform} account {token.account_id}; `analisa collect` includes it",
        soft_wrap=True,
    )
