"""`migrate`, and the `db` group: the connection strings of the database (`db url`) and a local
TCP port in front of the embedded PostgreSQL for psql and BI tools (`db serve`).

Passwords: the owner's comes from DATABASE_URL and is shown only with --show-password. The
analyst role of the database (migration 012) has no password until one is asked for
(`db url --role analyst --new-password`, or each `db serve`); it is generated, handed to the
server as a SCRAM verifier and printed once, stored nowhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from enum import StrEnum
from typing import Annotated
from urllib.parse import quote, urlparse

import typer

from analisa.cli.runtime import console, err, fail, setup
from analisa.core.db import normalize_url, revoke_analyst_login, set_analyst_password, url_parts

app = typer.Typer(
    help="The database: connection strings, and a TCP port for psql and BI tools.",
    no_args_is_help=True,
)

DEFAULT_SERVE_PORT = 5433


class Role(StrEnum):
    owner = "owner"
    analyst = "analyst"


def migrate() -> None:
    """Create or update the database schemas (bronze, ops); safe to run again."""
    setup()
    console.print("database is up to date")


def masked(url: str) -> str:
    """The URL with its password replaced by ****."""
    parsed = urlparse(url)
    if not parsed.password:
        return url
    userinfo, _, hostinfo = parsed.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    return parsed._replace(netloc=f"{user}:****@{hostinfo}").geturl()


def tcp_url(role: str, password: str | None, host: str, port: int, dbname: str) -> str:
    login = quote(role, safe="")
    if password:
        login += ":" + quote(password, safe="")
    return f"postgresql://{login}@{host}:{port}/{quote(dbname, safe='')}"


def _is_socket(parts: dict[str, str]) -> bool:
    return parts["host"].startswith("/")


@app.command()
def url(
    role: Annotated[Role, typer.Option(help="Whose connection string.")] = Role.owner,
    show_password: Annotated[
        bool, typer.Option(help="Print the owner's password instead of ****.")
    ] = False,
    new_password: Annotated[
        bool,
        typer.Option(
            help="Analyst: set a new random password (the previous one stops working) and "
            "print it, once."
        ),
    ] = False,
    port: Annotated[
        int,
        typer.Option(min=1, max=65535, help="Embedded database: the port of `analisa db serve`."),
    ] = DEFAULT_SERVE_PORT,
) -> None:
    """Print a connection string: the owner's (DATABASE_URL or the embedded server) or the
    analyst's, who reads gold and nothing else in this database."""
    _, admin_url = setup()
    parts = url_parts(admin_url)
    if role is Role.owner:
        if new_password:
            raise typer.BadParameter(
                "only the analyst's password is set here", param_hint="'--new-password'"
            )
        shown = normalize_url(admin_url)
        console.print(shown if show_password else masked(shown), highlight=False, soft_wrap=True)
        if _is_socket(parts):
            err.print(
                "The embedded server is up only while an analisa command runs, on a Unix socket: "
                "`analisa db serve` keeps it up on a TCP port for the analyst role.",
                highlight=False,
            )
        return
    password = None
    if new_password:
        analyst, password = set_analyst_password(admin_url)
    else:
        import psycopg

        with psycopg.connect(admin_url) as conn:
            analyst = conn.execute("select ops.analyst_role_name()").fetchone()[0]
    host, tcp_port = (
        ("127.0.0.1", port) if _is_socket(parts) else (parts["host"], int(parts["port"]))
    )
    console.print(
        tcp_url(analyst, password, host, tcp_port, parts["dbname"]), highlight=False, soft_wrap=True
    )
    if password is None:
        err.print("No password shown: --new-password sets one and prints it once.", highlight=False)
    if _is_socket(parts):
        err.print(f"Reachable while `analisa db serve --port {port}` runs.", highlight=False)


@app.command()
def serve(
    port: Annotated[
        int, typer.Option(min=1, max=65535, help="Local TCP port to listen on.")
    ] = DEFAULT_SERVE_PORT,
    show_password: Annotated[
        bool, typer.Option(help="Print the analyst's password of this session.")
    ] = False,
) -> None:
    """Keep the embedded PostgreSQL up on 127.0.0.1:PORT for psql and BI tools, until Ctrl-C.

    Only the analyst role connects there (gold, read only), with a password made for this
    session; it stops working when the command ends."""
    settings, admin_url = setup()
    parts = url_parts(admin_url)
    if not _is_socket(parts):
        raise fail(
            "DATABASE_URL names a server that is already reachable: nothing to serve. "
            "`analisa db url --role analyst --new-password` gives an analyst's connection string."
        )
    from pathlib import Path

    from analisa.core.pg_proxy import PostgresProxy, require_password

    analyst, password = set_analyst_password(admin_url)
    import psycopg

    if require_password((settings.home / "postgres").resolve(), [analyst]):
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute("select pg_reload_conf()")
    socket_path = str(Path(parts["host"]) / f".s.PGSQL.{parts['port']}")
    proxy = PostgresProxy(socket_path, [analyst], port=port)

    async def run() -> None:
        try:
            await proxy.start()
        except OSError as exc:
            raise fail(f"Cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}") from None
        console.print(
            tcp_url(
                analyst, password if show_password else None, "127.0.0.1", port, parts["dbname"]
            ),
            highlight=False,
            soft_wrap=True,
        )
        if not show_password:
            err.print(
                "Password of this session not shown: restart with --show-password to print it.",
                highlight=False,
            )
        err.print("Serving until Ctrl-C.", highlight=False)
        await proxy.serve_forever()

    def stop(*_: object) -> None:
        raise KeyboardInterrupt

    # a service manager's SIGTERM ends the session like Ctrl-C: the password is revoked
    signal.signal(signal.SIGTERM, stop)
    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass
    finally:
        with contextlib.suppress(Exception):
            revoke_analyst_login(admin_url)
    console.print("stopped; the analyst's password of this session no longer works")
