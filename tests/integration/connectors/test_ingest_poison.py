"""A poison folder: one file per way an envelope can be bad, good envelopes around each bad one.
Every good envelope loads, every bad one is kept in bronze.rejected_envelopes with its reason,
every file is read, and a second run changes nothing."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import psycopg
import pytest

from connectors.raw_import import import_path

BASE = {
    "platform": "instagram",
    "endpoint": "user",
    "account_id": "1784",
    "status": 200,
}


def good(n: int) -> str:
    """A profile answer without round_id (it means nothing for profiles)."""
    day = 1 + n % 28
    body = {"id": "1784", "username": "a", "followers_count": n}
    return json.dumps(
        {**BASE, "fetched_at": f"2026-10-{day:02d}T10:{n % 60:02d}:00Z", "body": body}
    )


def envelope(**changes) -> str:
    return json.dumps(
        {**BASE, "fetched_at": "2026-10-01T00:00:00Z", "body": {"id": "1"}, **changes}
    )


POISON: dict[str, tuple[bytes, str]] = {
    "deep_nesting": (
        (
            '{"platform":"instagram","endpoint":"user","account_id":"1","status":200,'
            '"fetched_at":"2026-10-01T00:00:00Z","body":' + "[" * 100_000 + "]" * 100_000 + "}"
        ).encode(),
        "invalid JSON: nested too deeply to read",
    ),
    "moderately_deep": (
        envelope(body=json.loads("[" * 200 + "]" * 200)).encode(),
        "body is nested deeper than 128 levels",
    ),
    "nul_in_field": (
        envelope(account_id="17\u000084").encode(),
        "field 'account_id' contains a NUL character (U+0000), which text cannot store",
    ),
    "nul_in_string_body": (
        envelope(body="<html>\u0000</html>").encode(),
        "body contains a NUL character (U+0000), which text cannot store",
    ),
    "raw_nul_byte": (b'{"platform": "instagram\x00"}', "invalid JSON: Invalid control character"),
    "invalid_utf8": (b'{"platform": "instagram", "x": "\xff\xfe"}', "invalid UTF-8 at byte 32"),
    "lone_surrogate": (
        envelope().replace('"id": "1"', '"id": "\\udc00"').encode(),
        "body contains a lone UTF-16 surrogate (not valid Unicode)",
    ),
    "float_overflow": (
        envelope().replace('"id": "1"', '"n": 1e999').encode(),
        "invalid JSON: number 1e999 is out of range",
    ),
    "huge_integer": (
        envelope().replace('"id": "1"', '"n": ' + "9" * 5000).encode(),
        "a number is out of range (thousands of digits)",
    ),
    "nan_literal": (
        envelope().replace('"id": "1"', '"n": NaN').encode(),
        "invalid JSON: NaN is not a JSON number",
    ),
    "year_9999": (
        envelope(fetched_at="9999-12-31T23:59:59-05:00").encode(),
        "fetched_at '9999-12-31T23:59:59-05:00' is not a valid time: date value out of range",
    ),
    "year_1": (
        envelope(fetched_at="0001-01-01T00:00:00+05:00").encode(),
        "fetched_at '0001-01-01T00:00:00+05:00' is not a valid time: date value out of range",
    ),
    "far_future": (
        envelope(fetched_at="2099-01-01T00:00:00Z").encode(),
        "fetched_at 2099-01-01T00:00:00+00:00 is in the future",
    ),
    "status_as_bool": (
        envelope(status=True).encode(),
        "status must be an HTTP status code, got 'True'",
    ),
    "platform_as_list": (
        envelope(platform=["instagram"]).encode(),
        "field 'platform' must be a string, got list",
    ),
    "listing_without_round": (
        envelope(endpoint="media", body={"data": []}).encode(),
        "missing field 'round_id'",
    ),
    "not_an_object": (b"[1, 2, 3]", "envelope must be a JSON object, got list"),
}


@pytest.fixture
def poison_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "poison"
    folder.mkdir()
    for n, (name, (bad, _)) in enumerate(sorted(POISON.items())):
        lines = [good(3 * n).encode(), bad, good(3 * n + 1).encode()]
        (folder / f"{name}.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    return folder


def test_every_good_envelope_loads_and_every_bad_one_is_kept_with_its_reason(db_url, poison_folder):
    (poison_folder / "README.txt").write_text("notes about this dump")
    with psycopg.connect(db_url) as conn:
        first = import_path(conn, poison_folder)
        again = import_path(conn, poison_folder)
        loaded = conn.execute("select count(*) from bronze.raw_records").fetchone()[0]
        rejected = {
            row[0]: row[1:]
            for row in conn.execute(
                "select source_file, line_no, reason, raw_line from bronze.rejected_envelopes"
            )
        }
        round_ids = conn.execute("select distinct round_id from bronze.raw_records").fetchall()
    assert (first.files, first.envelopes) == (len(POISON), 3 * len(POISON))
    assert (first.loaded, first.duplicates, first.rejected_total) == (
        2 * len(POISON),
        0,
        len(POISON),
    )
    assert first.skipped == ["README.txt"]
    assert first.exit_code == 1
    assert loaded == 2 * len(POISON)
    assert round_ids == [(None,)]
    for name, (_, reason) in POISON.items():
        line, stored_reason, raw_line = rejected[f"{name}.jsonl"]
        assert line == 2, name
        assert stored_reason.startswith(reason), (name, stored_reason)
        assert raw_line, name
    assert (again.loaded, again.duplicates, again.rejected_total) == (
        0,
        2 * len(POISON),
        len(POISON),
    )


def test_json_arrays_bom_gzip_and_unreadable_files(db_url, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    # a top-level array: commas, brackets and escaped quotes inside strings do not split it
    tricky = json.loads(good(7))
    tricky["body"]["username"] = 'a, "b" ] [ { } \\'
    items = [good(1), json.dumps(tricky), good(2), envelope(status=9)]
    body = b",\r\n".join(i.encode() for i in items)
    (folder / "array.json").write_bytes(b"\xef\xbb\xbf[\r\n" + body + b"\r\n]\r\n")
    (folder / "one.json").write_text(good(3), encoding="utf-8-sig")
    with gzip.open(folder / "packed.jsonl.gz", "wt", encoding="utf-8") as f:
        f.write(good(4) + "\n" + good(5) + "\n")
    (folder / "broken.jsonl.gz").write_bytes(b"this is not gzip")
    (folder / "open.json").write_text("[" + good(6) + ",")
    with psycopg.connect(db_url) as conn:
        report = import_path(conn, folder)
        names = [
            r[0]
            for r in conn.execute(
                "select body ->> 'username' from bronze.raw_records order by fetched_at"
            )
        ]
        rejected = conn.execute(
            "select source_file, line_no, reason from bronze.rejected_envelopes order by 1"
        ).fetchall()
    assert report.loaded == 7
    assert 'a, "b" ] [ { } \\' in names
    assert rejected == [
        ("array.json", 5, "status must be an HTTP status code, got '9'"),
        ("open.json", 1, "the file ends inside the array (no closing ])"),
    ]
    assert [u.file for u in report.unreadable] == ["broken.jsonl.gz"]
    assert report.exit_code == 2


def test_a_large_array_streams_element_by_element(db_url, tmp_path):
    path = tmp_path / "big.json"
    with path.open("w", encoding="utf-8") as f:
        f.write("[")
        f.write(",".join(good(n) for n in range(5000)))
        f.write("]")
    with psycopg.connect(db_url) as conn:
        report = import_path(conn, path)
        count = conn.execute(
            "select count(distinct record_hash) from bronze.raw_records"
        ).fetchone()[0]
    assert (report.envelopes, report.rejected_total) == (5000, 0)
    assert report.loaded + report.duplicates == 5000
    assert count == report.loaded
