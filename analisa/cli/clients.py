"""`analisa clients create`: an API client (id and secret) for POST /v1/auth/token."""

from __future__ import annotations

from typing import Annotated

import typer

from analisa.cli._access import access_db
from analisa.cli.runtime import fail

app = typer.Typer(help="API clients: credentials that get tokens.", no_args_is_help=True)


@app.command("create")
def create(
    workspace: Annotated[str, typer.Option(help="The workspace the client belongs to.")],
    role: Annotated[str, typer.Option(help="viewer, analyst or admin.")],
    name: Annotated[str, typer.Option(help="A label for the client.")] = "",
) -> None:
    """Create a client; prints client_id and client_secret (shown once, stored hashed)."""
    from serving_api import workspaces as ws

    with access_db() as (_, conn):
        try:
            found = ws.find_workspace(conn, workspace)
            client_id, secret = ws.create_client(conn, found.workspace_id, role, name)
        except ws.WorkspaceError as exc:
            raise fail(str(exc)) from None
    typer.echo(f"client_id={client_id}")
    typer.echo(f"client_secret={secret}")
