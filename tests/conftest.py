"""Shared fixtures: real PostgreSQL, Redis and RabbitMQ, each test run in its own database,
key prefix and queue names, cleaned up afterwards.

A missing service skips the tests that need it, unless ANALISA_REQUIRE_SERVICES=1 (CI), where
it fails them instead.
"""

from __future__ import annotations

import os
import uuid

import psycopg
import pytest

from analisa.core.db import migrate, with_database

DEFAULT_TEST_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_TEST_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_TEST_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"


def _require_services() -> bool:
    return os.environ.get("ANALISA_REQUIRE_SERVICES", "").lower() in {"1", "true", "yes"}


def _unavailable(what: str, exc: Exception) -> None:
    message = f"{what} unavailable: {exc}"
    if _require_services():
        pytest.fail(message + " (ANALISA_REQUIRE_SERVICES=1)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def server_url() -> str:
    url = os.environ.get("DATABASE_URL") or DEFAULT_TEST_DATABASE_URL
    try:
        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("select 1")
    except psycopg.Error as exc:
        _unavailable("PostgreSQL", exc)
    return url


def _create_database(server_url: str) -> tuple[str, str]:
    name = f"analisa_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    return name, with_database(server_url, name)


def _drop_database(server_url: str, name: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture
def empty_db(server_url: str):
    """A fresh, empty database for one test."""
    name, url = _create_database(server_url)
    try:
        yield url
    finally:
        _drop_database(server_url, name)


@pytest.fixture
def db_url(empty_db: str) -> str:
    """A fresh database with the migrations applied."""
    migrate(empty_db)
    return empty_db


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("REDIS_URL") or DEFAULT_TEST_REDIS_URL
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        _unavailable("Redis", exc)
    return url


@pytest.fixture
def redis_prefix(redis_url: str):
    """A key prefix owned by one test; its keys are deleted afterwards."""
    import redis

    prefix = f"analisa-test:{uuid.uuid4().hex[:10]}:"
    yield prefix
    client = redis.Redis.from_url(url=redis_url)
    keys = list(client.scan_iter(match=prefix + "*"))
    if keys:
        client.delete(*keys)


@pytest.fixture
def amqp_url() -> str:
    url = os.environ.get("AMQP_URL") or DEFAULT_TEST_AMQP_URL
    import pika

    try:
        pika.BlockingConnection(pika.URLParameters(url)).close()
    except Exception as exc:  # pika raises several unrelated connection errors
        _unavailable("RabbitMQ", exc)
    return url
