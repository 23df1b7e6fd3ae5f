"""Workspaces, their influencer lists and API clients (ops tables, migration 005).

Used by the `analisa workspace` / `analisa clients` commands (migrating credentials) and by the
API's admin endpoints and token endpoint (the API role, granted exactly these tables). Every
input is validated here, once, so the CLI and the API refuse the same things.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

import psycopg

from analisa.core import catalog
from serving_api.auth import ROLES, check_secret, hash_secret

WORKSPACE_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
ACCOUNT_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
ACCOUNT_ID_PATTERN = ACCOUNT_ID.pattern
# A brand's name (ops.brands, unique within its workspace): what `analisa brands add` accepts
# and the fit route's path takes.
BRAND = re.compile(r"^[\w .&'()-]{1,128}$")


class WorkspaceError(ValueError):
    """A refused input or a missing object, with a message fit for the user."""


@dataclass(frozen=True)
class Workspace:
    workspace_id: int
    name: str


@dataclass(frozen=True)
class Client:
    client_id: str
    workspace_id: int
    workspace: str
    role: str


def check_name(name: str) -> str:
    if not isinstance(name, str) or not WORKSPACE_NAME.fullmatch(name):
        raise WorkspaceError(
            "workspace names are 1-63 characters: lowercase letters, digits, '.', '_', '-',"
            " starting with a letter or digit"
        )
    return name


def check_account(platform: str, account_id: str) -> tuple[str, str]:
    if platform not in catalog.PLATFORMS:
        raise WorkspaceError(
            f"unknown platform {platform!r} (expected one of {', '.join(catalog.PLATFORMS)})"
        )
    if not isinstance(account_id, str) or not ACCOUNT_ID.fullmatch(account_id):
        raise WorkspaceError(
            "account ids are 1-128 characters: letters, digits, '.', '_', ':', '-'"
        )
    return platform, account_id


def check_role(role: str) -> str:
    if role not in ROLES:
        raise WorkspaceError(f"unknown role {role!r} (expected one of {', '.join(ROLES)})")
    return role


def create_workspace(conn: psycopg.Connection[Any], name: str) -> Workspace:
    check_name(name)
    row = conn.execute(
        "insert into ops.workspaces (name) values (%s) on conflict (name) do nothing"
        " returning workspace_id",
        (name,),
    ).fetchone()
    if row is None:
        raise WorkspaceError(f"workspace {name!r} exists already")
    return Workspace(row[0] if not isinstance(row, dict) else row["workspace_id"], name)


def find_workspace(conn: psycopg.Connection[Any], name: str) -> Workspace:
    check_name(name)
    row = conn.execute(
        "select workspace_id from ops.workspaces where name = %s", (name,)
    ).fetchone()
    if row is None:
        raise WorkspaceError(f"no workspace named {name!r} (create it: analisa workspace create)")
    return Workspace(row[0] if not isinstance(row, dict) else row["workspace_id"], name)


def add_influencer(
    conn: psycopg.Connection[Any], workspace_id: int, platform: str, account_id: str
) -> bool:
    """Put an influencer on the workspace's list; False when it was there already."""
    check_account(platform, account_id)
    cur = conn.execute(
        "insert into ops.workspace_influencers (workspace_id, platform, account_id)"
        " values (%s, %s, %s) on conflict do nothing",
        (workspace_id, platform, account_id),
    )
    return cur.rowcount == 1


def remove_influencer(
    conn: psycopg.Connection[Any], workspace_id: int, platform: str, account_id: str
) -> bool:
    cur = conn.execute(
        "delete from ops.workspace_influencers"
        " where workspace_id = %s and platform = %s and account_id = %s",
        (workspace_id, platform, account_id),
    )
    return cur.rowcount == 1


def create_client(
    conn: psycopg.Connection[Any], workspace_id: int, role: str, name: str = ""
) -> tuple[str, str]:
    """A new client id and its secret; only the secret's scrypt hash is stored."""
    check_role(role)
    if len(name) > 128 or "\x00" in name:
        raise WorkspaceError("client names are at most 128 characters")
    client_id = "cl_" + secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    conn.execute(
        "insert into ops.api_clients (client_id, workspace_id, role, name, secret_hash)"
        " values (%s, %s, %s, %s, %s)",
        (client_id, workspace_id, role, name, hash_secret(secret)),
    )
    return client_id, secret


def authenticate_client(
    conn: psycopg.Connection[Any], client_id: str, secret: str
) -> Client | None:
    """The client when the secret is right and it is not revoked; None otherwise (same cost)."""
    row = None
    if isinstance(client_id, str) and re.fullmatch(r"cl_[a-f0-9]{16}", client_id):
        row = conn.execute(
            "select c.client_id, c.workspace_id, w.name, c.role, c.secret_hash, c.revoked_at"
            " from ops.api_clients c join ops.workspaces w using (workspace_id)"
            " where c.client_id = %s",
            (client_id,),
        ).fetchone()
    values = list(row.values()) if isinstance(row, dict) else row
    ok = check_secret(secret, values[4] if values else None)
    if not ok or values is None or values[5] is not None:
        return None
    return Client(values[0], values[1], values[2], values[3])
