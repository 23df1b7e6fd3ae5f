"""A pipelining Redis client for the fast path's one script call per request.

redis-py's asyncio client costs a request more CPU than the rest of a cached answer: a pooled
connection taken and given back, a timeout task, and one socket write and read per command.
Here one connection per worker carries every concurrent request's call: the commands issued
during one turn of the event loop go out in one write, and the replies (RESP2, in order) are
matched to their callers as they arrive.

Failures look like redis-py's, so the cache treats both alike: a refused or lost connection is
`redis.ConnectionError` for every call waiting on it, a Redis that stops answering is
`redis.TimeoutError` after `timeout` seconds and up to half that again (a watchdog, not one
timer per call, that also waits for a quiet period, not a busy event loop), and an error
reply is `redis.ResponseError`. The next call reconnects. Only `redis://` URLs (host, port,
database, user and password) are handled; `from_url` returns None for others (TLS, sockets) and
the cache then uses redis-py.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import deque
from typing import Any
from urllib.parse import unquote, urlsplit

import redis

_CRLF = b"\r\n"


class _Incomplete(Exception):
    """The buffer ends inside a reply."""


def pack(*parts: bytes | str | int) -> bytes:
    """One command in RESP."""
    out = [b"*%d\r\n" % len(parts)]
    for part in parts:
        if isinstance(part, str):
            part = part.encode()
        elif isinstance(part, int):
            part = b"%d" % part
        out.append(b"$%d\r\n%s\r\n" % (len(part), part))
    return b"".join(out)


def parse(buffer: bytes | bytearray, pos: int = 0) -> tuple[Any, int]:
    """One RESP2 reply from `pos`: (value, position after it). Error replies are returned as
    `redis.ResponseError` values, not raised; nil is None."""
    end = buffer.find(_CRLF, pos)
    if end < 0:
        raise _Incomplete
    kind, line = buffer[pos : pos + 1], buffer[pos + 1 : end]
    after = end + 2
    if kind == b"$":
        size = int(line)
        if size < 0:
            return None, after
        if len(buffer) < after + size + 2:
            raise _Incomplete
        return bytes(buffer[after : after + size]), after + size + 2
    if kind == b"*":
        size = int(line)
        if size < 0:
            return None, after
        items = []
        for _ in range(size):
            item, after = parse(buffer, after)
            items.append(item)
        return items, after
    if kind == b":":
        return int(line), after
    if kind == b"+":
        return bytes(line), after
    if kind == b"-":
        return redis.ResponseError(bytes(line).decode("utf-8", "replace")), after
    raise redis.ConnectionError(f"unexpected reply from Redis: {bytes(buffer[pos:end])[:40]!r}")


class _Connection(asyncio.Protocol):
    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.transport: asyncio.Transport | None = None
        self.waiting: deque[tuple[asyncio.Future, float]] = deque()
        self.buffer = bytearray()
        self.outgoing: list[bytes] = []
        self.flushing = False
        self.closed = False
        self.loop = asyncio.get_running_loop()
        self.watch: asyncio.TimerHandle | None = None
        self.heard = False  # bytes from Redis since the watchdog's last look
        self.overdue = False  # the last look found a command overdue and nothing heard

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.watch = self.loop.call_later(self.timeout / 4, self._watch)

    def call(self, command: bytes) -> asyncio.Future:
        if self.closed:
            raise redis.ConnectionError("connection to Redis closed")
        future = self.loop.create_future()
        self.waiting.append((future, self.loop.time() + self.timeout))
        self.outgoing.append(command)
        if not self.flushing:
            self.flushing = True
            self.loop.call_soon(self._flush)
        return future

    def _flush(self) -> None:
        self.flushing = False
        if self.closed or not self.outgoing:
            return
        data = b"".join(self.outgoing)
        self.outgoing.clear()
        self.transport.write(data)

    def data_received(self, data: bytes) -> None:
        self.heard = True
        self.buffer += data
        pos = 0
        try:
            while pos < len(self.buffer):
                value, pos = parse(self.buffer, pos)
                if not self.waiting:
                    raise redis.ConnectionError("reply from Redis to no command")
                future, _ = self.waiting.popleft()
                if not future.done():
                    future.set_result(value)
        except _Incomplete:
            pass
        except (redis.ConnectionError, ValueError) as exc:
            self._fail(redis.ConnectionError(str(exc)))
            return
        if pos:
            del self.buffer[:pos]

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(redis.ConnectionError(f"connection to Redis lost: {exc or 'closed'}"))

    def _watch(self) -> None:
        """Time out only when Redis sent nothing for a whole period while a command is
        overdue: a busy event loop (timers run before reads) must not be taken for a silent
        Redis, which would send every request to PostgreSQL just when load is highest."""
        if self.closed:
            return
        heard, self.heard = self.heard, False
        if not heard and self.waiting and self.waiting[0][1] < self.loop.time():
            if self.overdue:
                self._fail(redis.TimeoutError(f"Redis did not answer within {self.timeout} s"))
                return
            self.overdue = True
        else:
            self.overdue = False
        self.watch = self.loop.call_later(self.timeout / 4, self._watch)

    def _fail(self, exc: Exception) -> None:
        if not self.closed:
            self.closed = True
            if self.watch is not None:
                self.watch.cancel()
            if self.transport is not None:
                self.transport.abort()
        while self.waiting:
            future, _ = self.waiting.popleft()
            if not future.done():
                future.set_exception(exc)
                future.exception()  # retrieved: a cancelled caller leaves no warning

    def close(self) -> None:
        self._fail(redis.ConnectionError("client closed"))


class PipelinedRedis:
    def __init__(
        self,
        host: str,
        port: int,
        *,
        db: int = 0,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 2.0,
    ) -> None:
        self.host, self.port, self.db = host, port, db
        self.username, self.password = username, password
        self.timeout = timeout
        self._connection: _Connection | None = None
        self._opening: asyncio.Future | None = None

    @classmethod
    def from_url(cls, url: str, *, timeout: float = 2.0) -> PipelinedRedis | None:
        parts = urlsplit(url)
        if parts.scheme != "redis" or not parts.hostname:
            return None
        path = parts.path.strip("/")
        if parts.query or (path and not path.isdigit()):
            return None  # options redis-py understands and this client does not
        return cls(
            parts.hostname,
            parts.port or 6379,
            db=int(path or 0),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            timeout=timeout,
        )

    async def _open(self) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            _, connection = await asyncio.wait_for(
                loop.create_connection(lambda: _Connection(self.timeout), self.host, self.port),
                self.timeout,
            )
        except OSError as exc:
            raise redis.ConnectionError(f"cannot connect to Redis: {exc}") from None
        setup = []
        if self.password:
            auth = (self.username, self.password) if self.username else (self.password,)
            setup.append(pack("AUTH", *auth))
        if self.db:
            setup.append(pack("SELECT", self.db))
        for command in setup:
            reply = await connection.call(command)
            if isinstance(reply, redis.ResponseError):
                connection.close()
                raise reply
        return connection

    async def connection(self) -> _Connection:
        current = self._connection
        if current is not None and not current.closed:
            return current
        if self._opening is None:
            self._opening = asyncio.ensure_future(self._open())
        opening = self._opening
        try:
            current = await asyncio.shield(opening)
        finally:
            if self._opening is opening and opening.done():
                self._opening = None
        self._connection = current
        return current

    async def evalsha(self, script: Script, keys: list, args: list) -> Any:
        connection = await self.connection()
        reply = await connection.call(pack(b"EVALSHA", script.sha, len(keys), *keys, *args))
        if isinstance(reply, redis.ResponseError) and str(reply).startswith("NOSCRIPT"):
            reply = await connection.call(pack(b"EVAL", script.text, len(keys), *keys, *args))
        if isinstance(reply, redis.ResponseError):
            raise reply
        return reply

    async def aclose(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


class Script:
    def __init__(self, text: str) -> None:
        self.text = text
        self.sha = hashlib.sha1(text.encode()).hexdigest()
