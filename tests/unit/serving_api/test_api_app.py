"""The API app builds without services, documents its endpoints, and its cache degrades."""

from __future__ import annotations

import json
import logging

import pytest
import redis
from pydantic import BaseModel

from analisa.core.settings import Settings
from serving_api.app import create_app
from serving_api.cache import ResponseCache


def test_app_builds_and_openapi_lists_endpoints():
    app = create_app(Settings(DATABASE_URL="postgresql://nobody@127.0.0.1:1/none"))
    spec = app.openapi()

    assert spec["info"]["title"] == "Analisa API"
    assert {"/healthz", "/v1/influencers", "/v1/influencers/{platform}/{account_id}"} <= set(
        spec["paths"]
    )
    listing = spec["paths"]["/v1/influencers"]["get"]
    params = {p["name"]: p["schema"] for p in listing["parameters"]}
    assert params["limit"]["minimum"] == 1
    assert params["limit"]["maximum"] == 100
    assert params["sort"]["enum"] == ["engagement", "-engagement", "followers", "-followers"]
    assert "503" in listing["responses"]
    detail = spec["paths"]["/v1/influencers/{platform}/{account_id}"]["get"]
    assert "404" in detail["responses"]
    # The formula travels with the field, for API users who never read dbt.
    rate = spec["components"]["schemas"]["Influencer"]["properties"]["median_engagement_rate"]
    assert "(likes + comments + shares) / followers * 100" in rate["description"]


class _Page(BaseModel):
    value: int


class _FlakyRedis:
    """Just enough of redis.Redis for the cache; `down` makes every call fail like a dead server."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}
        self.down = False
        self.calls = 0

    def _check(self) -> None:
        self.calls += 1
        if self.down:
            raise redis.ConnectionError("Error 111 connecting. Connection refused.")

    def get(self, key: str) -> bytes | None:
        self._check()
        return self.data.get(key)

    def set(self, key: str, value: bytes, ex: int) -> None:
        self._check()
        self.data[key] = value


def test_cache_key_uses_version_path_and_sorted_params_without_nones():
    cache = ResponseCache(None, prefix="p:")
    key = cache.key(7, "/v1/influencers", {"sort": "-engagement", "limit": 5, "platform": None})
    assert key == "p:api:v1:7:/v1/influencers?limit=5&sort=-engagement"


def test_cache_disabled_bypasses():
    response = ResponseCache(None).respond("/x", {}, lambda: _Page(value=1))
    assert response.headers["X-Cache"] == "bypass"
    assert json.loads(response.body) == {"value": 1}


def test_cache_miss_then_hit_with_fake_client():
    cache = ResponseCache(_FlakyRedis(), prefix="p:")  # type: ignore[arg-type]
    first = cache.respond("/x", {"a": 1}, lambda: _Page(value=1))
    second = cache.respond("/x", {"a": 1}, lambda: _Page(value=2))
    assert (first.headers["X-Cache"], second.headers["X-Cache"]) == ("miss", "hit")
    assert json.loads(second.body) == {"value": 1}


def test_redis_failure_warns_once_per_burst_skips_redis_then_recovers(caplog, monkeypatch):
    client = _FlakyRedis()
    cache = ResponseCache(client, prefix="p:", retry_after_seconds=30)  # type: ignore[arg-type]
    client.down = True
    caplog.set_level(logging.INFO, logger="serving_api.cache")

    answers = [cache.respond("/x", {}, lambda: _Page(value=3)) for _ in range(3)]

    assert [a.headers["X-Cache"] for a in answers] == ["bypass"] * 3
    assert all(json.loads(a.body) == {"value": 3} for a in answers)
    assert client.calls == 1  # after the failure Redis is skipped, not retried per request
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "serving from PostgreSQL" in warnings[0].getMessage()

    # Redis back and the skip window over: cached again, recovery logged, next burst warns again.
    client.down = False
    monkeypatch.setattr(cache, "_skip_until", 0.0)
    assert cache.respond("/x", {}, lambda: _Page(value=4)).headers["X-Cache"] == "miss"
    assert any("available again" in r.getMessage() for r in caplog.records)
    client.down = True
    cache.respond("/y", {}, lambda: _Page(value=5))
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 2


@pytest.mark.parametrize("down", [False, True])
def test_cache_status_for_healthz(down):
    client = _FlakyRedis()
    client.down = down
    cache = ResponseCache(client)  # type: ignore[arg-type]
    assert cache.status() == (("error", None) if down else ("ok", 0))
    assert ResponseCache(None).status() == ("disabled", None)
