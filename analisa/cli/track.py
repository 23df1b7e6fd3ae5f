"""`analisa track`: evaluate creators who have not connected, through Business Discovery."""

from __future__ import annotations

from typing import Annotated

import typer

from analisa.cli.runtime import console, fail, setup

app = typer.Typer(
    help="Creators who have not connected: a brand's Facebook Login, then Business Discovery "
    "of public Instagram creators by username.",
    no_args_is_help=True,
)


@app.command("login")
def login(
    login_as: Annotated[
        str | None,
        typer.Option(help="Sandbox only: approve as this sandbox Instagram account."),
    ] = None,
) -> None:
    """Connect the brand's (or agency's) business account through Facebook Login: open the
    URL, approve, paste back the URL the browser was redirected to."""
    import httpx

    from connectors.public_creators import login as facebook_login
    from connectors.tokens import OAuthError

    # the settings refuse the development FACEBOOK_APP_SECRET in production
    settings, url = setup()

    with httpx.Client(timeout=30) as http:

        def ask(consent_url: str) -> str:
            if login_as:
                from sandbox.consent import approve

                return approve(http, consent_url, login_as)
            console.print("Open this URL, log in with Facebook and approve:", highlight=False)
            console.print(consent_url, highlight=False, markup=False, soft_wrap=True)
            return typer.prompt("Paste the URL the browser was redirected to")

        try:
            found = facebook_login(settings, http, url, ask)
        except OAuthError as exc:
            raise fail(f"Facebook Login failed: {exc}") from None
    console.print(
        f"Connected: page {found.page_name or found.page_id}, Instagram business account "
        f"{found.business_account_id} (valid until {found.token.access_expires_at:%Y-%m-%d}).",
        highlight=False,
    )


@app.command("instagram")
def instagram(
    username: Annotated[str, typer.Argument(help="The creator's Instagram username.")],
) -> None:
    """Track a public Instagram creator: profile and media through Business Discovery, under
    the platform rate limit; gold marks reach, insights and demographics as unavailable."""
    import httpx

    from connectors.public_creators import TrackError, track

    settings, url = setup()
    with httpx.Client(timeout=30) as http:
        try:
            creator_id = track(settings, http, url, username)
        except TrackError as exc:
            raise fail(str(exc)) from None
    console.print(
        f"Tracking {username} (public, id {creator_id}): the workers collect it next, "
        "or run analisa collect.",
        highlight=False,
    )
