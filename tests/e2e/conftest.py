"""Fixtures for whole-pipeline runs: a test database, and isolated queue and cache prefixes."""

import uuid

import pytest

from analisa.core.settings import get_settings
from tests.conftest import delete_queues


@pytest.fixture
def pipeline_env(db_url, tmp_path, monkeypatch):
    """Point settings at the test database; no broker, no cache unless a test adds them."""
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("ANALISA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ANALISA_EXPORT_DIR", str(tmp_path / "exports"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("AMQP_URL", raising=False)
    get_settings.cache_clear()
    yield db_url
    get_settings.cache_clear()


@pytest.fixture
def queue_prefix():
    """Queue names owned by one test; its queue is deleted afterwards."""
    prefix = f"analisa-test-{uuid.uuid4().hex[:8]}"
    yield prefix
    delete_queues(prefix)
