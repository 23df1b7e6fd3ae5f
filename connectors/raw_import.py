"""`analisa ingest`: load API responses users already hold (.json / .jsonl envelopes) into bronze.

Each envelope is checked on its own: good ones load, bad ones are kept whole in
bronze.rejected_envelopes and reported with file, line and reason. Loading the same file twice
changes nothing (bronze dedups on the envelope hash, rejections on file+line+content).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import psycopg

from analisa.core import catalog
from connectors.bronze_writer import write_records
from connectors.records import RawRecord

SUFFIXES = (".json", ".jsonl")


class EnvelopeError(ValueError):
    pass


@dataclass(frozen=True)
class Rejection:
    file: str
    line: int
    reason: str


@dataclass
class ImportReport:
    files: int = 0
    envelopes: int = 0
    loaded: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)


def _text(env: dict, key: str, *, required: bool = True) -> str | None:
    value = env.get(key)
    if value is None or value == "":
        if required:
            raise EnvelopeError(f"missing field {key!r}")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise EnvelopeError(f"field {key!r} must be a string, got {type(value).__name__}")
    return str(value)


def parse_envelope(env: object, source: str) -> RawRecord:
    """One envelope → RawRecord, or EnvelopeError saying exactly what is wrong."""
    if not isinstance(env, dict):
        raise EnvelopeError(f"envelope must be a JSON object, got {type(env).__name__}")
    platform = _text(env, "platform")
    endpoint = _text(env, "endpoint")
    try:
        entry = catalog.endpoint(platform, endpoint)
    except KeyError as exc:
        raise EnvelopeError(exc.args[0]) from None
    account_id = _text(env, "account_id")
    object_id = _text(env, "object_id", required=entry.object_id_required)
    round_id = _text(env, "round_id")
    raw_ts = _text(env, "fetched_at")
    try:
        fetched_at = datetime.fromisoformat(raw_ts.replace("Z", "+00:00"))
    except ValueError as exc:
        raise EnvelopeError(f"fetched_at {raw_ts!r} is not ISO 8601") from exc
    if fetched_at.tzinfo is None:
        raise EnvelopeError(f"fetched_at {raw_ts!r} has no time zone (write e.g. ...Z)")
    status = env.get("status")
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise EnvelopeError(f"status must be an HTTP status code, got {status!r}")
    if "body" not in env:
        raise EnvelopeError("missing field 'body'")
    body = env["body"]
    # A string body is the raw text the platform sent (not valid JSON); anything else is JSON.
    body_text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
    return RawRecord(
        platform=platform,
        endpoint=endpoint,
        account_id=account_id,
        object_id=object_id,
        round_id=round_id,
        fetched_at=fetched_at,
        status=status,
        body_text=body_text,
        request=_text(env, "request", required=False),
        source=source,
    )


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".json":
        yield 1, text
        return
    for n, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            yield n, line


def discover(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if not path.exists():
        raise FileNotFoundError(f"no such file or directory: {path}")
    return sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in SUFFIXES)


def import_path(conn: psycopg.Connection, path: Path) -> ImportReport:
    """Load every envelope under `path`; one transaction per file."""
    report = ImportReport()
    root = path if path.is_dir() else path.parent
    for file in discover(path):
        name = file.relative_to(root).as_posix()
        source = f"file:{name}"
        records: list[RawRecord] = []
        rejected: list[tuple[int, str, str]] = []
        for line_no, raw in _lines(file):
            report.envelopes += 1
            try:
                env = json.loads(raw)
            except ValueError as exc:
                rejected.append((line_no, f"invalid JSON: {exc}", raw))
                continue
            try:
                records.append(parse_envelope(env, source))
            except EnvelopeError as exc:
                rejected.append((line_no, str(exc), raw))
        with conn.transaction():
            new = write_records(conn, records)
            for line_no, reason, raw in rejected:
                conn.execute(
                    "insert into bronze.rejected_envelopes "
                    "(source_file, line_no, reason, raw_line, raw_hash) "
                    "values (%s, %s, %s, %s, %s) on conflict do nothing",
                    (
                        name,
                        line_no,
                        reason,
                        raw.replace("\x00", "\\u0000"),
                        hashlib.sha256(raw.encode()).hexdigest(),
                    ),
                )
        report.files += 1
        report.loaded += new
        report.duplicates += len(records) - new
        report.rejected += [Rejection(name, n, reason) for n, reason, _ in rejected]
    return report
