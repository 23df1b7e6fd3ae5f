"""Instagram answers classified from their records (and usage headers)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest

from connectors.http import redact_request
from connectors.instagram.errors import (
    DEFAULT_THROTTLE_SECONDS,
    classify,
    parse_app_usage_header,
    parse_buc_header,
)
from connectors.records import RawRecord


def record(body, status=400, endpoint="media_object") -> RawRecord:
    text = body if isinstance(body, str) else json.dumps(body)
    return RawRecord(
        platform="instagram",
        endpoint=endpoint,
        account_id="17841400000000001",
        round_id="r",
        fetched_at=datetime(2026, 11, 1, tzinfo=UTC),
        status=status,
        body_text=text,
    )


def error(code, subcode=None, message="boom"):
    err = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "x"}
    if subcode is not None:
        err["error_subcode"] = subcode
    return {"error": err}


def buc(minutes, call_count=100, account="17841400000000001"):
    entry = {
        "type": "instagram",
        "call_count": call_count,
        "total_cputime": 1,
        "total_time": 2,
        "estimated_time_to_regain_access": minutes,
    }
    return {"X-Business-Use-Case-Usage": json.dumps({account: [entry]})}


@pytest.mark.parametrize("code", [4, 17, 32, 613, 80002])
def test_throttle_codes_wait_as_the_header_says(code):
    problem = classify(record(error(code)), httpx.Headers(buc(7)))
    assert problem.kind == "throttled" and problem.retry_after_seconds == 420
    assert problem.code == code


def test_throttle_waits_at_least_a_minute_and_has_a_default():
    assert classify(record(error(4)), httpx.Headers(buc(0))).retry_after_seconds == 60
    assert classify(record(error(4))).retry_after_seconds == DEFAULT_THROTTLE_SECONDS


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (error(190, 463), "token_invalid"),
        (error(190), "token_invalid"),
        (error(10), "permission"),
        (error(200), "permission"),
        (error(299), "permission"),
        (error(100, 33), "not_found"),
        (error(33), "not_found"),
        (error(100), "other"),
        (error(110, 2207013), "other"),
    ],
)
def test_error_codes(body, kind):
    assert classify(record(body)).kind == kind


def test_missing_object_while_throttled_counts_as_throttled():
    problem = classify(record(error(100, 33)), httpx.Headers(buc(3)))
    assert problem.kind == "throttled" and problem.retry_after_seconds == 180
    assert classify(record(error(100, 33)), httpx.Headers(buc(0, 10))).kind == "not_found"


def test_server_and_malformed():
    assert classify(record(error(2), status=500)).kind == "server"
    assert classify(record("<html>oops</html>", status=502)).kind == "server"
    assert classify(record('{"id": "1', status=200)).kind == "malformed"
    assert classify(record({"data": "x"}, status=200, endpoint="media")).kind == "malformed"
    assert classify(record({"name": "x"}, status=200, endpoint="user")).kind == "malformed"
    assert classify(record({"data": [{"caption": "x"}]}, 200, "media")).kind == "malformed"
    assert classify(record({"ok": True}, status=404)).kind == "other"


def test_good_answers():
    assert classify(record({"id": "1"}, 200, "user")) is None
    assert classify(record({"data": [{"id": "1"}], "paging": {}}, 200, "media")) is None
    assert classify(record({"data": []}, 200, "media_insights")) is None
    assert classify(record({"data": [{"name": "x"}]}, 200, "user_insights")) is None


def test_usage_headers():
    usage = parse_buc_header(buc(5, 81)["X-Business-Use-Case-Usage"])
    entry = usage["17841400000000001"][0]
    assert (entry.call_count, entry.estimated_time_to_regain_access) == (81, 5)
    assert parse_buc_header("not json") == {} and parse_buc_header(None) == {}
    assert parse_app_usage_header('{"call_count":28,"total_time":25,"total_cputime":25}') == {
        "call_count": 28,
        "total_time": 25,
        "total_cputime": 25,
    }


def test_requests_are_recorded_without_secrets():
    request = httpx.Request(
        "GET",
        "https://graph.instagram.com/v23.0/me/media",
        params={"fields": "id", "access_token": "IGAAsecret", "client_secret": "s", "limit": 5},
    )
    assert redact_request(request) == "GET /v23.0/me/media?fields=id&limit=5"
    bare = httpx.Request("GET", "https://graph.instagram.com/me?access_token=IGAAsecret")
    assert redact_request(bare) == "GET /me"
