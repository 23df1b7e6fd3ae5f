import dataclasses
import json
from datetime import UTC, datetime

import pytest

from connectors.queue import InProcessQueue
from connectors.raw_import import EnvelopeError, parse_envelope
from connectors.tasks import CollectionTask, Outcome


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_in_process_queue_orders_by_priority_and_waits_for_scheduled_work():
    clock = FakeClock()
    queue = InProcessQueue(clock=clock, sleep=clock.sleep)
    seen = []
    scheduled = [CollectionTask("instagram", "b", "r1", attempt=1)]

    def pump():
        # the outbox's answer: one task due at t=1600, published once its time has come
        if scheduled and clock.now >= 1600:
            queue.publish(scheduled.pop())
            return 0.0
        return 1600 - clock.now if scheduled else None

    def handler(task):
        seen.append((task.task_id, clock.now))
        return Outcome.done(records=2)

    queue.publish(CollectionTask("instagram", "a", "r1", priority=1))
    queue.publish(CollectionTask("instagram", "c", "r1", priority=9))
    stats = queue.consume(handler, pump=pump)
    assert seen == [
        ("r1:instagram:c:a0", 1000.0),  # higher priority first
        ("r1:instagram:a:a0", 1000.0),
        ("r1:instagram:b:a1", 1600.0),  # the scheduled one, at its time, not before
    ]
    assert (stats.done, stats.retried, stats.parked, stats.records) == (3, 0, 0, 6)


def test_waiting_for_a_limit_uses_up_no_attempt():
    task = CollectionTask("tiktok", "x", "r", failures=2)
    waited = task.next_attempt(failed=False)
    failed = task.next_attempt(failed=True)
    assert (waited.task_id, waited.failures) == ("r:tiktok:x:a1", 2)
    assert (failed.task_id, failed.failures) == ("r:tiktok:x:a1", 3)
    assert Outcome.wait(60, "throttled").failed is False


def test_task_json_round_trip():
    task = CollectionTask("tiktok", "-000abc", "run1", attempt=2, priority=7, failures=1)
    assert CollectionTask.from_json(task.to_json()) == task
    assert task.round_id == "run1:tiktok:-000abc"  # one round for every attempt


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
