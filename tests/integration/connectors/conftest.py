"""Fixtures of the collection tests: a connected sandbox and a RabbitMQ prefix of one test."""

from __future__ import annotations

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


@pytest.fixture
def rabbit_prefix(amqp_url):
    """Queue names owned by one test; deleted afterwards."""
    import pika

    prefix = f"analisa-test-{uuid.uuid4().hex[:8]}"
    yield prefix
    conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        conn.channel().queue_delete(f"{prefix}.collect")
    finally:
        conn.close()


def connect_world(config: SandboxConfig, db_url: str, monkeypatch):
    """Start a sandbox, point the settings at it and store a token per sandbox account."""
    sandbox = SandboxServer(config).start()
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
