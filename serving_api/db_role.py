"""The API's own database role (migration 006): its name, and a login for one serving run.

The role is created by the migrations without a password; whoever starts the API with the
migrating credentials (`analisa serve`, the benchmark) gives it a fresh random password and
hands the API a URL with it, so the API process never holds a role that can write or read
bronze, and no long-lived password has to be configured.
"""

from __future__ import annotations

import secrets
from urllib.parse import quote, urlparse

import psycopg
from psycopg import sql

from analisa.core.db import database_role_name, normalize_url


def api_role_name(dbname: str) -> str:
    """The role name `ops.api_role_name()` computes in that database (same rule, in Python)."""
    return database_role_name(dbname, "api")


def api_login_url(admin_url: str) -> str:
    """Set a new random password on this database's API role and return the URL logging in
    as it (same host, port and database). Needs the migrated database and admin credentials."""
    password = secrets.token_urlsafe(32)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        role = conn.execute("select ops.api_role_name()").fetchone()[0]
        conn.execute(
            sql.SQL("alter role {} with login password {}").format(
                sql.Identifier(role), sql.Literal(password)
            )
        )
    parsed = urlparse(normalize_url(admin_url))
    host = parsed.netloc.rsplit("@", 1)[-1]  # host:port, empty for a socket URL (?host=...)
    login = f"{quote(role, safe='')}:{quote(password, safe='')}@{host}"
    return parsed._replace(netloc=login).geturl()


def drop_api_role(admin_url: str, dbname: str) -> None:
    """Drop the API role of a database that was dropped (tests: roles outlive databases)."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        role = sql.Identifier(api_role_name(dbname))
        conn.execute(sql.SQL("drop role if exists {}").format(role))
