"""The bronze gate on hand-made records in the real PostgreSQL: every rule catches its broken
record on its own endpoint only, with the record named; malformed bodies are counted, not failed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from analisa.core import catalog
from connectors.bronze_writer import write_records
from connectors.records import RawRecord
from expectations import bronze

NOW = datetime(2026, 10, 10, 12, 0, tzinfo=UTC)


def rec(endpoint, at, *, platform="instagram", body=None, object_id=None, round_id="r1", n=0):
    text = body if isinstance(body, str) else json.dumps(body or {"data": [], "n": n})
    return RawRecord(platform, endpoint, "acc1", round_id, at, 200, text, object_id=object_id)


def good_records():
    """Five records of four endpoints, all within the rules."""
    at = NOW - timedelta(days=1)
    return [
        rec("user", at, body={"id": "acc1", "followers_count": 10}),
        rec("media", at, n=1),
        rec("media", at + timedelta(seconds=1), n=2),
        rec("media_insights", at, object_id="m1"),
        rec("video_list", at, platform="tiktok", body={"data": {"videos": []}}),
    ]


@pytest.fixture
def conn(db_url):
    with psycopg.connect(db_url) as conn:
        write_records(conn, good_records())
        conn.commit()
        yield conn


def _insert(conn, **overrides):
    """A record written around the loader, as a broken tool would; returns its record_id."""
    row = {
        "record_hash": "h-odd",
        "content_hash": "c",
        "platform": "instagram",
        "endpoint": "media",
        "account_id": "acc1",
        "object_id": None,
        "round_id": "r1",
        "fetched_at": NOW - timedelta(hours=1),
        "http_status": 200,
        "body": '{"data": []}',
        "body_text": None,
        "source": "manual",
    } | overrides
    cols = ", ".join(row)
    marks = ", ".join(f"%({c})s" for c in row)
    return conn.execute(
        f"insert into bronze.raw_records ({cols}) values ({marks}) returning record_id", row
    ).fetchone()[0]


def test_clean_bronze_passes_every_endpoint_of_the_catalog(conn):
    results = bronze.evaluate(conn, now=NOW)
    assert set(results) == {(e.platform, e.name) for e in catalog.ENDPOINTS}
    assert all(r.success for r in results.values()), [r.summary() for r in results.values()]
    assert results[("instagram", "media")].rows == 2
    assert results[("instagram", "media_object")].rows == 0
    # object_id is judged only where the catalog requires it; round_id only on listings
    insights = {c.name for c in results[("instagram", "media_insights")].checks}
    media = {c.name for c in results[("instagram", "media")].checks}
    assert "object_id present" in insights and "object_id present" not in media
    assert "round_id present" in media and "round_id present" not in insights
    assert results[("instagram", "media")].summary() == (
        "bronze_instagram_media: 7 checks passed on 2 rows"
    )
    # one GX suite judged every endpoint: one count per check, never a record
    observations = sum(len(r.checks) for r in results.values())
    (judged_by,) = {r.judged_by for r in results.values()}
    assert judged_by.endswith(
        f"suite bronze_gate: 2 expectations on {observations} observations, 0 unexpected"
    )


def test_a_future_fetched_at_fails_its_endpoint_beyond_the_tolerance(conn):
    # 9 minutes ahead is clock drift (tolerance 10 minutes) ...
    write_records(conn, [rec("media", NOW + timedelta(minutes=9), n=3)])
    assert bronze.evaluate(conn, now=NOW)[("instagram", "media")].success
    # ... one record a day ahead fails the gate: bronze holds every record to the rules
    write_records(conn, [rec("media", NOW + timedelta(days=1), n=4)])
    results = bronze.evaluate(conn, now=NOW)
    media = results[("instagram", "media")]
    assert not media.success
    (failure,) = media.failures
    assert failure.name == "fetched_at not in the future"
    assert failure.observed == {"odd": 1, "total": 4}
    assert failure.unexpected == ("expect_column_values_to_be_between: odd 1 not in [0, 0]",)
    assert "record 7 fetched_at=2026-10-11T12:00:00+00:00" in failure.detail
    assert all(r.success for k, r in results.items() if k != ("instagram", "media"))


@pytest.mark.parametrize(
    ("endpoint", "overrides", "rule"),
    [
        ("media", {"account_id": " "}, "account_id present"),
        ("media", {"round_id": ""}, "round_id present"),
        ("media_insights", {"object_id": None}, "object_id present"),
        ("media", {"http_status": 0}, "http_status in 100-599"),
        ("media", {"http_status": 600}, "http_status in 100-599"),
        ("media", {"body": None, "body_text": None}, "body kept"),
    ],
)
def test_each_rule_catches_its_broken_record(conn, endpoint, overrides, rule):
    record_id = _insert(conn, endpoint=endpoint, **overrides)
    result = bronze.evaluate(conn, now=NOW)[("instagram", endpoint)]
    assert [f.name for f in result.failures] == [rule]
    assert result.failures[0].observed["odd"] == 1
    assert f"record {record_id} " in result.summary()


def test_a_body_kept_as_text_is_kept(conn):
    _insert(conn, body=None, body_text="<html>", record_hash="h-text")
    assert bronze.evaluate(conn, now=NOW)[("instagram", "media")].success


def test_a_duplicated_record_hash_fails(conn):
    # the primary key is (record_hash, fetched_at): only a writer bypassing the hash can do this
    _insert(conn, record_hash="same", fetched_at=NOW - timedelta(hours=2))
    _insert(conn, record_hash="same", fetched_at=NOW - timedelta(hours=3))
    result = bronze.evaluate(conn, now=NOW)[("instagram", "media")]
    assert [(f.name, f.observed) for f in result.failures] == [
        ("record_hash unique", {"odd": 2, "total": 4})
    ]
    assert "same… x2" in result.summary()


def test_malformed_bodies_are_counted_with_a_few_examples_and_pass_the_gate(conn):
    at = NOW - timedelta(hours=5)
    broken = [
        rec("media_insights", at + timedelta(seconds=i), body='{"data": [', object_id=f"m{i}")
        for i in range(12)
    ]
    write_records(conn, broken)
    found = bronze.malformed(conn, examples=10)
    assert found[("instagram", "media_insights")].count == 12
    examples = found[("instagram", "media_insights")].examples
    assert len(examples) == 10 and "invalid JSON" in examples[0]
    assert found[("instagram", "media")].count == 0 and found[("instagram", "media")].examples == []
    assert bronze.evaluate(conn, now=NOW)[("instagram", "media_insights")].success


def test_an_accepted_run_judges_only_the_records_loaded_since(conn):
    assert all(r.success for r in bronze.run(conn, now=NOW).values())
    conn.commit()
    marks = bronze.marks(conn)
    assert marks[("instagram", "media")].records == 2
    assert marks[("instagram", "media_object")].records == 0
    # a judged record is not read again: one broken behind the gate's back is not seen ...
    conn.execute("update bronze.raw_records set http_status = 0 where endpoint = 'user'")
    write_records(conn, [rec("media", NOW - timedelta(hours=2), n=5)])
    conn.commit()
    results = bronze.run(conn, now=NOW)
    conn.commit()
    assert all(r.success for r in results.values()), [r.summary() for r in results.values()]
    # ... and the judged records are counted from the mark, the new one read
    assert results[("instagram", "user")].rows == 1
    assert results[("instagram", "media")].rows == 3
    # evaluate judges the same records and records no mark
    before = bronze.marks(conn)
    assert bronze.evaluate(conn, now=NOW)[("instagram", "media")].rows == 3
    assert bronze.marks(conn) == before
    # a retention purge deletes records below the marks: everything is judged again, once
    conn.execute(
        "insert into ops.retention_purges (purge_id, table_name, period_days, rows_deleted) "
        "values ('p1', 'bronze.raw_records', 30, 0)"
    )
    conn.commit()
    user = bronze.run(conn, now=NOW)[("instagram", "user")]
    assert [f.name for f in user.failures] == ["http_status in 100-599"]


def test_bad_new_records_fail_until_they_are_removed(conn):
    assert all(r.success for r in bronze.run(conn, now=NOW).values())
    conn.commit()
    record_id = _insert(conn, http_status=0, record_hash="h-bad")
    conn.commit()
    # the failed endpoint keeps its mark: the bad record fails every run, not only the first
    for _ in range(2):
        results = bronze.run(conn, now=NOW)
        conn.commit()
        media = results[("instagram", "media")]
        assert [f.name for f in media.failures] == ["http_status in 100-599"]
        assert f"record {record_id} " in media.summary()
        assert media.failures[0].observed == {"odd": 1, "total": 3}
        assert all(r.success for k, r in results.items() if k != ("instagram", "media"))
    conn.execute("delete from bronze.raw_records where record_id = %s", (record_id,))
    conn.commit()
    assert bronze.run(conn, now=NOW)[("instagram", "media")].success


def test_a_new_record_repeating_a_judged_hash_fails_both(conn):
    assert all(r.success for r in bronze.run(conn, now=NOW).values())
    conn.commit()
    (judged,) = conn.execute(
        "select record_hash from bronze.raw_records where endpoint = 'user'"
    ).fetchone()
    _insert(conn, record_hash=judged, fetched_at=NOW - timedelta(hours=3))
    conn.commit()
    results = bronze.run(conn, now=NOW)
    # the new record is a media page, the judged one a profile: each endpoint counts its own
    media, user = results[("instagram", "media")], results[("instagram", "user")]
    assert [(f.name, f.observed) for f in media.failures] == [
        ("record_hash unique", {"odd": 1, "total": 3})
    ]
    assert [(f.name, f.observed) for f in user.failures] == [
        ("record_hash unique", {"odd": 1, "total": 1})
    ]
    assert f"{judged[:12]}… x2" in user.summary()


def test_an_erasure_since_the_marks_makes_the_gate_judge_everything_again(conn):
    assert all(r.success for r in bronze.run(conn, now=NOW).values())
    conn.commit()
    assert bronze.marks(conn)
    conn.execute(
        "insert into ops.audit_log (actor, action, outcome) values ('admin', 'erase', 'ok')"
    )
    conn.commit()
    assert bronze.marks(conn) == {}
    assert bronze.run(conn, now=NOW)[("instagram", "media")].rows == 2


def test_counts_read_the_new_records_and_the_malformed_ones_only(conn):
    at = NOW - timedelta(hours=5)
    write_records(conn, [rec("media_insights", at, body='{"data": [', object_id="m9")])
    conn.commit()
    everything = {
        ("instagram", "user"): (1, 0),
        ("instagram", "media"): (2, 0),
        ("instagram", "media_insights"): (2, 1),
        ("tiktok", "video_list"): (1, 0),
    }
    assert bronze.counts(conn) == everything  # no marks yet: all of bronze is counted
    assert all(r.success for r in bronze.run(conn, now=NOW).values())
    conn.commit()
    # below the marks the records are taken from them: a record changed behind the gate's
    # back is not counted again (the marks say 2 media pages), a new one is
    conn.execute("delete from bronze.raw_records where endpoint = 'media' and body ->> 'n' = '1'")
    write_records(conn, [rec("media", NOW - timedelta(hours=2), n=5)])
    conn.commit()
    assert bronze.counts(conn) == everything | {("instagram", "media"): (3, 0)}
    # a purge since the marks: all of bronze is counted again
    conn.execute(
        "insert into ops.retention_purges (purge_id, table_name, period_days, rows_deleted) "
        "values ('p1', 'bronze.raw_records', 30, 1)"
    )
    conn.commit()
    assert bronze.counts(conn)[("instagram", "media")] == (2, 0)
