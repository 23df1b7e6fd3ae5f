"""TikTok answers classified from their records."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from connectors.records import RawRecord
from connectors.tiktok.errors import classify
from connectors.tokens import TokenSet


def record(body, status=200, endpoint="video_list") -> RawRecord:
    text = body if isinstance(body, str) else json.dumps(body)
    return RawRecord(
        platform="tiktok",
        endpoint=endpoint,
        account_id="-000abc",
        round_id="r",
        fetched_at=datetime(2026, 11, 1, tzinfo=UTC),
        status=status,
        body_text=text,
    )


def answer(code="ok", data=None, message=""):
    return {"data": data or {}, "error": {"code": code, "message": message, "log_id": "1"}}


@pytest.mark.parametrize(
    ("code", "status", "kind"),
    [
        ("rate_limit_exceeded", 429, "throttled"),
        ("access_token_invalid", 401, "token_invalid"),
        ("scope_not_authorized", 401, "permission"),
        ("internal_error", 500, "server"),
        ("invalid_params", 400, "other"),
    ],
)
def test_error_codes(code, status, kind):
    problem = classify(record(answer(code), status))
    assert problem.kind == kind and problem.code == code
    if kind == "throttled":
        assert problem.retry_after_seconds == 60


def test_malformed_and_bare_statuses():
    assert classify(record('{"data": {"vid', 200)).kind == "malformed"
    assert classify(record({"data": {"videos": []}}, 200)).kind == "malformed"
    assert classify(record(answer(data={"videos": "x"}), 200)).kind == "malformed"
    assert classify(record("Too Many Requests", 429)).kind == "throttled"
    assert classify(record("Bad Gateway", 502)).kind == "server"


def test_good_answers():
    page = {"videos": [{"id": "7"}], "cursor": 1, "has_more": False}
    assert classify(record(answer(data=page))) is None
    assert classify(record(answer(data={"videos": []}), endpoint="video_query")) is None
    assert classify(record(answer(data={"user": {"open_id": "x"}}), endpoint="user_info")) is None
    assert classify(record(answer(data={}), endpoint="user_info")).kind == "malformed"


def test_token_set_repr_hides_secrets():
    now = datetime(2026, 11, 1, tzinfo=UTC)
    token = TokenSet("tiktok", "-000abc", "act.secret", "rft.secret", now, now, ("video.list",))
    assert "secret" not in repr(token)
    assert token.access_expires_within(now - timedelta(minutes=5), timedelta(minutes=10))
