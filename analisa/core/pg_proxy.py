"""A local TCP port in front of the embedded PostgreSQL, for psql and BI tools (`analisa db serve`).

The embedded server listens on a Unix socket only, and trusts whoever reaches that socket: that
is what lets every command run without a password. A TCP port must not extend that trust to
every process of the machine, so this proxy reads the client's startup message and lets through
only the roles it was given (the database's analyst role), and the server is told to ask those
roles for their password (SCRAM) on the socket too (`require_password`). Everything after the
startup message is passed on untouched: the server authenticates, the proxy only forwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)

SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
CANCEL_REQUEST = 80877102
MAX_STARTUP_BYTES = 10_000


def require_password(pgdata: Path, roles: Iterable[str]) -> bool:
    """Make the embedded server ask `roles` for a SCRAM password on its socket (the first
    matching pg_hba.conf line wins, so these go first). Returns whether the file changed;
    the caller reloads the configuration (`select pg_reload_conf()`)."""
    hba = pgdata / "pg_hba.conf"
    lines = hba.read_text(encoding="utf-8").splitlines()
    wanted = [f"local all {role} scram-sha-256" for role in roles]
    missing = [line for line in wanted if line not in lines]
    if not missing:
        return False
    header = "# analisa db serve: analyst roles log in with a password"
    hba.write_text("\n".join([header, *missing, *lines]) + "\n", encoding="utf-8")
    return True


def _error(message: str) -> bytes:
    """A FATAL ErrorResponse, as the server would send it (SQLSTATE 28000: not authorised)."""
    fields = b"SFATAL\x00VFATAL\x00C28000\x00M" + message.encode() + b"\x00\x00"
    return b"E" + struct.pack("!I", len(fields) + 4) + fields


def _startup_parameters(body: bytes) -> dict[str, str]:
    parts = body.split(b"\x00")
    params = {}
    for key, value in zip(parts[0::2], parts[1::2], strict=False):
        if not key:
            break
        params[key.decode(errors="replace")] = value.decode(errors="replace")
    return params


class PostgresProxy:
    """Forward TCP clients at (host, port) to the server's Unix socket, for allowed users only."""

    def __init__(
        self, socket_path: str, allowed_users: Iterable[str], host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.socket_path = socket_path
        self.allowed = set(allowed_users)
        self.host = host
        self.port = port
        self.server: asyncio.base_events.Server | None = None

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._client, self.host, self.port)
        self.port = self.server.sockets[0].getsockname()[1]
        return self.port

    async def serve_forever(self) -> None:
        assert self.server is not None
        async with self.server:
            await self.server.serve_forever()

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            first = await self._startup(reader, writer)
            if first is None:
                return
            up_reader, up_writer = await asyncio.open_unix_connection(self.socket_path)
            up_writer.write(first)
            await up_writer.drain()
            await asyncio.gather(
                self._pump(reader, up_writer), self._pump(up_reader, writer), return_exceptions=True
            )
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            log.info("proxy connection ended: %s", type(exc).__name__)
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def _startup(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bytes | None:
        """The startup (or cancel) message to pass on, or None when the client was refused."""
        while True:
            head = await reader.readexactly(8)
            length, code = struct.unpack("!II", head)
            if length < 8 or length > MAX_STARTUP_BYTES:
                raise ValueError("bad startup length")
            body = await reader.readexactly(length - 8)
            if code in (SSL_REQUEST, GSSENC_REQUEST):
                # no TLS on a loopback port: the client goes on in plain text (or gives up,
                # when it requires TLS)
                writer.write(b"N")
                await writer.drain()
                continue
            if code == CANCEL_REQUEST:
                return head + body
            user = _startup_parameters(body).get("user", "")
            if user not in self.allowed:
                writer.write(
                    _error(f'role "{user}" cannot connect through this port (analysts only)')
                )
                await writer.drain()
                return None
            return head + body

    @staticmethod
    async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            with contextlib.suppress(Exception):
                writer.close()
