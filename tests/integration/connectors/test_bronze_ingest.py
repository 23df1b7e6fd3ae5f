"""Bronze writer and `analisa ingest` on a real PostgreSQL."""

import json
from datetime import UTC, datetime

import psycopg
import pytest

from connectors.bronze_writer import write_records
from connectors.raw_import import import_path
from connectors.records import RawRecord


def _rec(**kw):
    base = dict(
        platform="instagram",
        endpoint="user",
        account_id="1",
        round_id="r1",
        fetched_at=datetime(2026, 10, 2, 12, tzinfo=UTC),
        status=200,
        body_text='{"id": "1", "followers_count": 10}',
    )
    return RawRecord(**{**base, **kw})


def test_write_records_dedups_partitions_and_keeps_malformed(db_url):
    records = [
        _rec(),
        _rec(),  # exact duplicate in the same batch
        _rec(
            endpoint="media",
            fetched_at=datetime(2026, 11, 3, tzinfo=UTC),
            body_text='{"data": [{"id',
        ),
        _rec(body_text='{"text": "nul \\u0000 inside"}', round_id="r2"),
    ]
    with psycopg.connect(db_url) as conn:
        assert write_records(conn, records) == 3
        assert write_records(conn, records) == 0  # a replay changes nothing
        rows = conn.execute(
            "select endpoint, body is null, body_text, parse_error is not null, "
            "tableoid::regclass::text from bronze.raw_records order by record_id"
        ).fetchall()
    assert rows[0] == ("user", False, None, False, "bronze.raw_records_2026_10")
    assert rows[1] == ("media", True, '{"data": [{"id', True, "bronze.raw_records_2026_11")
    # jsonb cannot hold \u0000: the exact text is kept instead of failing the batch
    assert rows[2][1:4] == (True, '{"text": "nul \\u0000 inside"}', False)


def _envelope(**kw):
    env = {
        "platform": "tiktok",
        "endpoint": "user_info",
        "account_id": "-000a",
        "round_id": "r1",
        "fetched_at": "2026-10-05T08:00:00Z",
        "status": 200,
        "body": {
            "data": {"user": {"open_id": "-000a", "follower_count": 5}},
            "error": {"code": "ok"},
        },
    }
    env.update(kw)
    return json.dumps(env)


def test_ingest_reports_bad_lines_and_is_idempotent(db_url, tmp_path):
    folder = tmp_path / "dump"
    (folder / "nested").mkdir(parents=True)
    (folder / "a.jsonl").write_text(
        "\n".join(
            [
                _envelope(),
                _envelope(),  # duplicate line
                "{not json",
                _envelope(platform="myspace"),
                "",
                _envelope(fetched_at="2026-10-06T08:00:00+00:00", body="<html>502 Bad Gateway"),
            ]
        )
        + "\n"
    )
    (folder / "nested" / "b.json").write_text(_envelope(round_id="r2"))
    (folder / "ignored.txt").write_text("not an envelope")

    with psycopg.connect(db_url) as conn:
        first = import_path(conn, folder)
        second = import_path(conn, folder)
        stored = conn.execute(
            "select round_id, body is null, body_text, source from bronze.raw_records "
            "order by fetched_at, round_id"
        ).fetchall()
        rejected = conn.execute(
            "select source_file, line_no, reason from bronze.rejected_envelopes order by line_no"
        ).fetchall()

    assert (first.files, first.envelopes, first.loaded, first.duplicates) == (2, 6, 3, 1)
    assert [(r.file, r.line) for r in first.rejected] == [("a.jsonl", 3), ("a.jsonl", 4)]
    assert first.rejected[0].reason.startswith("invalid JSON")
    assert (
        first.rejected[1].reason == "unknown platform 'myspace' (expected one of instagram, tiktok)"
    )
    assert (second.loaded, second.duplicates, len(second.rejected)) == (0, 4, 2)
    assert stored == [
        ("r1", False, None, "file:a.jsonl"),
        ("r2", False, None, "file:nested/b.json"),
        ("r1", True, "<html>502 Bad Gateway", "file:a.jsonl"),
    ]
    assert rejected == [
        ("a.jsonl", 3, first.rejected[0].reason),
        ("a.jsonl", 4, first.rejected[1].reason),
    ]


def test_analyst_role_reads_gold_only(db_url):
    with psycopg.connect(db_url) as conn:
        conn.execute("create table gold.example (n int)")
        conn.execute("insert into gold.example values (1)")
        analyst = conn.execute("select ops.analyst_role_name()").fetchone()[0]
        conn.commit()
        # the cluster-wide role of migration 002 reads nothing here any more (012)
        conn.execute("set role analisa_analyst")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select n from gold.example")
        conn.rollback()
        conn.execute(f'set role "{analyst}"')
        assert conn.execute("select n from gold.example").fetchall() == [(1,)]
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("insert into gold.example values (2)")
        conn.rollback()
        conn.execute(f'set role "{analyst}"')
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select 1 from bronze.raw_records")
