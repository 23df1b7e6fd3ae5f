import dataclasses
import json
from datetime import UTC, datetime

import pytest

from connectors.queue import MAX_ATTEMPTS, InProcessQueue, retry_bucket
from connectors.raw_import import EnvelopeError, parse_envelope
from connectors.tasks import CollectionTask, Outcome


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_retry_bucket_waits_at_least_as_long_as_asked():
    assert retry_bucket(1) == 5
    assert retry_bucket(5) == 5
    assert retry_bucket(6) == 30
    assert retry_bucket(3600 * 5) == 3600


def test_in_process_queue_orders_by_due_time_then_priority_and_retries_later():
    clock = FakeClock()
    queue = InProcessQueue(clock=clock, sleep=clock.sleep)
    seen = []

    def handler(task):
        seen.append((task.task_id, clock.now))
        if task.account_id == "b" and task.attempt == 0:
            return Outcome.retry(600, "throttled")
        return Outcome.done(records=2)

    queue.publish(CollectionTask("instagram", "a", "r1", priority=1))
    queue.publish(CollectionTask("instagram", "b", "r1", priority=9))
    stats = queue.consume(handler)
    assert [s[0] for s in seen] == [
        "r1:instagram:b:a0",  # higher priority first
        "r1:instagram:a:a0",
        "r1:instagram:b:a1",  # the retry, 600 s later
    ]
    assert seen[2][1] - seen[0][1] == 600
    assert (stats.done, stats.retried, stats.parked, stats.records) == (2, 1, 0, 4)


def test_in_process_queue_parks_after_max_attempts():
    clock = FakeClock()
    queue = InProcessQueue(clock=clock, sleep=clock.sleep)
    queue.publish(CollectionTask("tiktok", "x", "r"))
    stats = queue.consume(lambda task: Outcome.retry(5, "server error"))
    assert stats.retried == MAX_ATTEMPTS - 1
    assert stats.parked == 1
    ((task, reason),) = queue.parked()
    assert task.attempt == MAX_ATTEMPTS - 1
    assert reason == "gave up: server error"


def test_task_json_round_trip():
    task = CollectionTask("tiktok", "-000abc", "run1", attempt=2, priority=7)
    assert CollectionTask.from_json(task.to_json()) == task
    assert task.round_id == "run1:tiktok:-000abc:a2"


GOOD = {
    "platform": "instagram",
    "endpoint": "media_insights",
    "account_id": "17841",
    "object_id": "1790",
    "round_id": "r1",
    "fetched_at": "2026-10-02T10:00:00Z",
    "status": 200,
    "body": {"data": []},
}


def test_parse_envelope_good():
    rec = parse_envelope(GOOD, "file:x.jsonl")
    assert rec.fetched_at == datetime(2026, 10, 2, 10, tzinfo=UTC)
    assert rec.object_id == "1790"
    assert json.loads(rec.body_text) == {"data": []}


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"platform": "youtube"}, "unknown platform 'youtube'"),
        ({"endpoint": "video_list"}, "unknown instagram endpoint 'video_list'"),
        ({"object_id": None}, "missing field 'object_id'"),
        ({"fetched_at": "yesterday"}, "fetched_at 'yesterday' is not a valid time"),
        ({"fetched_at": "2026-10-02T10:00:00"}, "has no time zone"),
        ({"status": "OK"}, "status must be an HTTP status code"),
        ({"status": 700}, "status must be an HTTP status code"),
        ({"account_id": {"id": 1}}, "field 'account_id' must be a string"),
    ],
)
def test_parse_envelope_reasons(change, reason):
    with pytest.raises(EnvelopeError, match=reason.replace("(", r"\(")):
        parse_envelope({**GOOD, **change}, "file:x")


def test_status_as_digits_and_epoch_capture_times_are_read():
    rec = parse_envelope({**GOOD, "status": "200", "fetched_at": 1791021600}, "file:x")
    assert (rec.status, rec.fetched_at) == (200, datetime(2026, 10, 3, 10, tzinfo=UTC))
    in_ms = parse_envelope({**GOOD, "fetched_at": 1791021600000}, "file:x")
    assert in_ms.fetched_at == rec.fetched_at


def test_string_body_is_raw_text_and_hash_ignores_nothing():
    rec = parse_envelope({**GOOD, "body": '{"data": [tru'}, "file:x")
    assert rec.body is None
    assert rec.parse_error.startswith("invalid JSON")
    other = dataclasses.replace(rec, round_id="r2")
    assert other.record_hash != rec.record_hash
    assert other.content_hash == rec.content_hash
