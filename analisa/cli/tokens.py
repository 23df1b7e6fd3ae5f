"""`analisa token`: a bearer token for the API, printed alone on stdout (for scripts)."""

from __future__ import annotations

from typing import Annotated

import typer

from analisa.cli._access import access_db
from analisa.cli.runtime import fail

MAX_TTL = 30 * 86400


def token(
    workspace: Annotated[str, typer.Option(help="The workspace the token reads.")],
    role: Annotated[str, typer.Option(help="viewer, analyst or admin.")],
    ttl: Annotated[
        int, typer.Option(min=1, max=MAX_TTL, help="Seconds the token is valid.")
    ] = 3600,
) -> None:
    """Print a signed API token for a workspace and role (nothing else on stdout)."""
    import getpass

    from serving_api import workspaces as ws
    from serving_api.auth import TokenService

    try:
        ws.check_role(role)
    except ws.WorkspaceError as exc:
        raise fail(str(exc)) from None
    with access_db() as (settings, conn):
        try:
            found = ws.find_workspace(conn, workspace)
        except ws.WorkspaceError as exc:
            raise fail(str(exc)) from None
    signed, _ = TokenService(settings).issue(
        subject=f"cli:{getpass.getuser()}",
        workspace_id=found.workspace_id,
        workspace=found.name,
        role=role,
        ttl_seconds=ttl,
    )
    typer.echo(signed)
