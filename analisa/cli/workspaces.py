"""`analisa workspace create|add-influencer|add-brand`: who sees what through the API.

A workspace's brands are the brands created in it (`analisa brands add NAME --workspace W`);
`add-brand` gives a workspace its own copy of a brand of the `default` workspace."""

from __future__ import annotations

from typing import Annotated

import typer

from analisa.cli._access import access_db, bump_workspace_version
from analisa.cli.runtime import console, fail

app = typer.Typer(
    help="Workspaces (a brand or an agency): the influencers each one sees, and its brands.",
    no_args_is_help=True,
)


@app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="Lowercase letters, digits, '.', '_', '-'.")],
) -> None:
    """Create a workspace."""
    from serving_api.workspaces import WorkspaceError, create_workspace

    with access_db() as (_, conn):
        try:
            workspace = create_workspace(conn, name)
        except WorkspaceError as exc:
            raise fail(str(exc)) from None
    console.print(f"workspace {workspace.name} created", highlight=False, markup=False)


@app.command("add-influencer")
def add_influencer(
    name: Annotated[str, typer.Argument(help="The workspace.")],
    platform: Annotated[str, typer.Argument(help="instagram or tiktok.")],
    account_id: Annotated[str, typer.Argument(help="The platform's account id.")],
) -> None:
    """Put an influencer on a workspace's list (the API shows it to that workspace only)."""
    from serving_api import workspaces as ws

    with access_db() as (settings, conn):
        try:
            workspace = ws.find_workspace(conn, name)
            added = ws.add_influencer(conn, workspace.workspace_id, platform, account_id)
        except ws.WorkspaceError as exc:
            raise fail(str(exc)) from None
    bump_workspace_version(settings, workspace.workspace_id)
    what = "added to" if added else "already on"
    console.print(f"{platform}/{account_id} {what} {name}", highlight=False, markup=False)


@app.command("add-brand")
def add_brand(
    name: Annotated[str, typer.Argument(help="The workspace.")],
    brand: Annotated[str, typer.Argument(help="A brand of the `default` workspace.")],
) -> None:
    """Give a workspace its own copy of a brand of the `default` workspace (one added there or
    an example brand), targets included. To define a workspace's brand directly:
    `analisa brands add BRAND --workspace NAME ...`."""
    from analisa.cli.brands import DEFAULT_WORKSPACE, copy_default_brand
    from serving_api import workspaces as ws

    with access_db() as (settings, conn):
        try:
            workspace = ws.find_workspace(conn, name)
            default = ws.find_workspace(conn, DEFAULT_WORKSPACE)
            outcome = copy_default_brand(conn, default.workspace_id, workspace.workspace_id, brand)
        except ws.WorkspaceError as exc:
            raise fail(str(exc)) from None
        except LookupError:
            raise fail(
                f"no brand {brand!r} in the {DEFAULT_WORKSPACE} workspace or the examples; "
                f"define it: analisa brands add {brand!r} --workspace {name} --interest ..."
            ) from None
    if outcome == "exists":
        console.print(f"brand {brand} is already in {name}", highlight=False, markup=False)
        return
    bump_workspace_version(settings, workspace.workspace_id)
    console.print(
        f"brand {brand} copied from {DEFAULT_WORKSPACE} into {name} with its targets"
        f" (change it: analisa brands add {brand!r} --workspace {name} --replace ...)",
        highlight=False,
        markup=False,
    )
