"""Fixtures of the collection tests: a connected sandbox and a RabbitMQ prefix of one test."""

from __future__ import annotations

import contextlib
import uuid

import httpx
import psycopg
import pytest

from analisa.cli.sandbox_accounts import connect_sandbox_accounts
from analisa.core.crypto import TokenVault
from analisa.core.settings import Settings
from connectors.token_store import save_token
from sandbox.server import SandboxServer
from sandbox.world import SandboxConfig
from tests.conftest import delete_queues


@pytest.fixture
def rabbit_prefix(amqp_url):
    """Queue names owned by one test; deleted afterwards."""
    prefix = f"analisa-test-{uuid.uuid4().hex[:8]}"
    yield prefix
    delete_queues(prefix)


def connect_world(config: SandboxConfig, db_url: str, monkeypatch, align_clock: bool = False):
    """Start a sandbox, point the settings at it and store a token per sandbox account.

    `align_clock` moves the sandbox's clock to the real time first, so token lifetimes the
    connectors compute and those the sandbox enforces agree.
    """
    sandbox = SandboxServer(config).start()
    if align_clock:
        import time
        from datetime import timedelta

        sandbox.world.move_clock(timedelta(seconds=time.time() - sandbox.world.now().timestamp()))
    for key, value in sandbox.settings_overrides().items():
        monkeypatch.setenv(key, value)
    settings = Settings()
    with httpx.Client(timeout=30) as http:
        connections = connect_sandbox_accounts(settings, http)
    vault = TokenVault(settings.vault_key.get_secret_value())
    with psycopg.connect(db_url) as conn, conn.transaction():
        for c in connections:
            save_token(conn, vault, c.token, username=c.username)
    return sandbox, settings


@pytest.fixture
def small_world(db_url, monkeypatch):
    """One Instagram and one TikTok account with 4 posts each, connected."""
    config = SandboxConfig(seed=3, influencers_per_platform=1, posts_per_influencer=4)
    sandbox, settings = connect_world(config, db_url, monkeypatch)
    try:
        yield sandbox, settings, db_url
    finally:
        sandbox.stop()


class DropProxy:
    """A TCP proxy to the broker whose connections the test can cut (a dropped network)."""

    def __init__(self, target_host: str, target_port: int):
        import socket
        import threading

        self._target = (target_host, target_port)
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self.port = self._listener.getsockname()[1]
        self._pairs: list = []
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        import socket
        import threading

        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self._target)
            with self._lock:
                self._pairs.append((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src, dst) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.close()

    def drop_all(self) -> int:
        """Cut every open connection at once; returns how many were cut."""
        import socket

        with self._lock:
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            for s in pair:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                    s.close()
                except OSError:
                    pass
        return len(pairs)

    def url(self, amqp_url: str) -> str:
        """`amqp_url` pointed at this proxy."""
        from urllib.parse import urlsplit, urlunsplit

        parts = urlsplit(amqp_url)
        netloc = parts.netloc.rsplit("@", 1)
        host = f"127.0.0.1:{self.port}"
        netloc = f"{netloc[0]}@{host}" if len(netloc) == 2 else host
        return urlunsplit(parts._replace(netloc=netloc))

    def close(self) -> None:
        self._closed = True
        self._listener.close()
        self.drop_all()


@pytest.fixture
def broker_proxy(amqp_url):
    from urllib.parse import urlsplit

    parts = urlsplit(amqp_url)
    proxy = DropProxy(parts.hostname or "127.0.0.1", parts.port or 5672)
    yield proxy
    proxy.close()
