"""One logging path: JSON lines carry the request or run id, and no credential reaches them."""

from __future__ import annotations

import io
import json
import logging

import dagster as dg
import pytest
import structlog
from fastapi import FastAPI
from fastapi.testclient import TestClient

from analisa.core.logging import (
    configure_logging,
    get_logger,
    log_context,
    redact_text,
)
from orchestration.lib.resources import AnalisaResource
from serving_api.request_id import RequestIdMiddleware

TOKEN = "IGAAxVeryLongAccessToken0123456789abcdef"
TIKTOK_REFRESH = "rft.713ce3f1aabbccddeeff0011"
CLIENT_SECRET = "s3cr3t-client-value-98765"


@pytest.fixture
def json_log():
    stream = io.StringIO()
    configure_logging("INFO", json_lines=True, stream=stream, secrets=[CLIENT_SECRET])
    yield stream
    logging.getLogger().handlers[:] = [
        h for h in logging.getLogger().handlers if h.get_name() != "analisa"
    ]
    structlog.contextvars.clear_contextvars()


def _lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_json_lines_carry_context_and_never_a_credential(json_log):
    with log_context(request_id="req-12345678"):
        logging.getLogger("analisa.test").warning(
            "refreshing %s with client_secret=%s", TOKEN, CLIENT_SECRET
        )
        get_logger("analisa.test").info(
            "token refreshed",
            access_token=TOKEN,
            detail=f"Authorization: Bearer {TOKEN}",
            answer={"refresh_token": TIKTOK_REFRESH, "open_id": "abc"},
            url=f"https://graph.instagram.com/me?fields=id&access_token={TOKEN}",
            secret_of_app=CLIENT_SECRET,
        )
    logging.getLogger("analisa.test").info("after the block")
    text = json_log.getvalue()
    assert TOKEN not in text and CLIENT_SECRET not in text and TIKTOK_REFRESH not in text
    first, second, third = _lines(json_log)
    assert first["request_id"] == second["request_id"] == "req-12345678"
    assert "request_id" not in third
    assert first["level"] == "warning" and first["logger"] == "analisa.test"
    assert first["event"] == "refreshing *** with client_secret=***"
    assert second["access_token"] == "***" and second["secret_of_app"] == "***"
    assert second["detail"] == "Authorization: Bearer ***"
    assert second["answer"] == {"refresh_token": "***", "open_id": "abc"}
    assert second["url"].endswith("access_token=***")


def test_redaction_keeps_ordinary_text():
    text = "error code=4 for account 17841405793187218: Application request limit reached"
    assert redact_text(text) == text
    assert redact_text("callback?state=x&code=AQBx123456789") == "callback?state=x&code=***"
    assert (
        redact_text("postgresql://analisa:pw12345@db:5432/a")
        == "postgresql://analisa:***@db:5432/a"
    )


def test_api_requests_get_an_id_in_logs_and_headers(json_log):
    app = FastAPI()

    @app.get("/ping")
    def ping():
        logging.getLogger("serving_api.test").info("ping served")
        return {"ok": True}

    app.add_middleware(RequestIdMiddleware)
    client = TestClient(app)
    made = client.get("/ping")
    given = client.get("/ping", headers={"X-Request-ID": "client-id-0001"})
    refused = client.get("/ping", headers={"X-Request-ID": "bad id\twith spaces"})
    assert len(made.headers["x-request-id"]) == 32
    assert given.headers["x-request-id"] == "client-id-0001"
    assert refused.headers["x-request-id"] != "bad id\twith spaces"
    ids = [line["request_id"] for line in _lines(json_log) if line["event"] == "ping served"]
    assert ids == [
        made.headers["x-request-id"],
        "client-id-0001",
        refused.headers["x-request-id"],
    ]


def test_dagster_runs_log_their_run_id(json_log):
    @dg.asset
    def noisy(analisa: AnalisaResource) -> None:
        logging.getLogger("orchestration.test").info("inside the run")

    result = dg.materialize([noisy], resources={"analisa": AnalisaResource()})
    assert result.success
    lines = [line for line in _lines(json_log) if line["event"] == "inside the run"]
    assert [line["run_id"] for line in lines] == [result.run_id]


def test_the_default_handler_follows_stderr_when_it_is_redirected(capsys):
    import contextlib

    try:
        redirected = io.StringIO()
        with contextlib.redirect_stderr(redirected):
            # configured while stderr pointed at a file that is closed afterwards
            configure_logging("INFO", json_lines=True)
            logging.getLogger("analisa.test").warning("while redirected")
        assert "while redirected" in redirected.getvalue()
        redirected.close()
        logging.getLogger("analisa.test").warning("after the redirect")
    finally:
        logging.getLogger().handlers[:] = [
            h for h in logging.getLogger().handlers if h.get_name() != "analisa"
        ]
    err = capsys.readouterr().err
    assert "after the redirect" in err and "Logging error" not in err


def test_keys_kept_for_rotation_are_masked_like_the_current_ones(monkeypatch):
    from analisa.core.logging import configure_from_settings
    from analisa.core.settings import Settings

    old_jwt, older_jwt = "previous-jwt-secret-" + "a" * 20, "older-jwt-secret-" + "b" * 20
    old_vault = "b2xkLXZhdWx0LWtleS0wMTIzNDU2Nzg5MDEyMzQ1Njc4OTA="
    fb_secret = "facebook-app-secret-4242"
    monkeypatch.setenv("ANALISA_JWT_PREVIOUS_SECRETS", f"{old_jwt}, {older_jwt}")
    monkeypatch.setenv("ANALISA_VAULT_PREVIOUS_KEYS", old_vault)
    monkeypatch.setenv("FACEBOOK_APP_SECRET", fb_secret)
    stream = io.StringIO()
    configure_from_settings(Settings(), stream=stream)
    try:
        logging.getLogger("analisa.test").warning(
            "keys %s %s %s %s", old_jwt, older_jwt, old_vault, fb_secret
        )
    finally:
        logging.getLogger().handlers[:] = [
            h for h in logging.getLogger().handlers if h.get_name() != "analisa"
        ]
    text = stream.getvalue()
    assert "keys *** *** *** ***" in text
    for value in (old_jwt, older_jwt, old_vault, fb_secret):
        assert value not in text
