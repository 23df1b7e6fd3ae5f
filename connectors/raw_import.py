"""`analisa ingest`: load API responses users already hold (envelopes) into bronze.

Files are read as streams (`.jsonl` line by line, `.json` one envelope or a top-level array
element by element, either optionally gzip-compressed), so memory stays bounded whatever their
size, and envelopes are committed in batches. Each envelope is checked on its own: good ones
load; a bad one is kept whole in `bronze.rejected_envelopes` with its file, line and reason, and
never stops its file or the files after it. Loading the same files twice changes nothing
(bronze dedups on the envelope hash, rejections on file + line + content).

An envelope (docs/architecture.md): {"platform", "endpoint", "account_id", "fetched_at",
"status", "body"} plus "object_id" (per-object endpoints), "round_id" (listing pages, which it
groups into one listing round), and optionally "request", "task_id".
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import psycopg

from analisa.core import catalog
from analisa.core.clock import utcnow
from connectors import suppression
from connectors.bronze_writer import write_records
from connectors.records import RawRecord

SUFFIXES = (".json", ".jsonl", ".json.gz", ".jsonl.gz")
# One envelope larger than this is rejected (its first MiB is kept with the reason).
MAX_ENVELOPE_BYTES = 64 * 1024 * 1024
KEPT_PREFIX_BYTES = 1024 * 1024
# A platform answer is a few levels deep; anything deeper is not one (and would exhaust stacks).
MAX_BODY_DEPTH = 128
MAX_FIELD_CHARS = 512
# Captures before the platforms' APIs existed, or more than a day ahead of now, are not real.
EARLIEST_CAPTURE = datetime(2004, 1, 1, tzinfo=UTC)
FUTURE_TOLERANCE = timedelta(days=1)
# Envelopes (or body bytes) per committed batch: bounded memory, and a crash loses at most one
# uncommitted batch, which the re-run loads (the rest are duplicates and change nothing).
BATCH_ENVELOPES = 2000
BATCH_BYTES = 32 * 1024 * 1024
# The report keeps this many rejections for display; the table keeps all of them.
REPORT_REJECTIONS = 200


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
    suppressed: int = 0
    """Envelopes of accounts erased at their owner's request (suppressed): not stored."""
    rejected_total: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    """The first REPORT_REJECTIONS rejections; all are in bronze.rejected_envelopes."""
    skipped: list[str] = field(default_factory=list)
    """Files of other types found in a folder, not read."""
    unreadable: list[Rejection] = field(default_factory=list)
    """Files that could not be read at all (permissions, corrupt compression), with why."""

    def reject(self, rejection: Rejection) -> None:
        self.rejected_total += 1
        if len(self.rejected) < REPORT_REJECTIONS:
            self.rejected.append(rejection)

    @property
    def exit_code(self) -> int:
        """0 every envelope loaded (or was already there), 1 some were rejected, 2 unusable
        input (no envelope file, or a file that could not be read)."""
        if self.unreadable or (self.files == 0 and not self.envelopes):
            return 2
        return 1 if self.rejected_total else 0


# -- checking one envelope ------------------------------------------------------------------------


def _clean_text(value: str, what: str) -> str:
    if "\x00" in value:
        raise EnvelopeError(f"{what} contains a NUL character (U+0000), which text cannot store")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise EnvelopeError(
            f"{what} contains a lone UTF-16 surrogate (not valid Unicode)"
        ) from None
    return value


def _text(env: dict, key: str, *, required: bool = True) -> str | None:
    value = env.get(key)
    if value is None or value == "":
        if required:
            raise EnvelopeError(f"missing field {key!r}")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise EnvelopeError(f"field {key!r} must be a string, got {type(value).__name__}")
    text = _clean_text(str(value), f"field {key!r}")
    if len(text) > MAX_FIELD_CHARS:
        raise EnvelopeError(f"field {key!r} is longer than {MAX_FIELD_CHARS} characters")
    return text


def _fetched_at(value: Any, now: datetime) -> datetime:
    if isinstance(value, bool) or value is None:
        raise EnvelopeError("missing field 'fetched_at'" if value is None else _ts_hint(value))
    try:
        if isinstance(value, int | float):
            if not math.isfinite(value):
                raise EnvelopeError(f"fetched_at {value!r} is not a time")
            seconds = value / 1000 if value > 1e11 else value  # epoch milliseconds or seconds
            ts = datetime.fromtimestamp(seconds, UTC)
        elif isinstance(value, str):
            ts = datetime.fromisoformat(_clean_text(value, "fetched_at").replace("Z", "+00:00"))
            if ts.tzinfo is None:
                raise EnvelopeError(f"fetched_at {value!r} has no time zone (write e.g. ...Z)")
            ts = ts.astimezone(UTC)
        else:
            raise EnvelopeError(_ts_hint(value))
    except (ValueError, OverflowError, OSError) as exc:
        if isinstance(exc, EnvelopeError):
            raise
        raise EnvelopeError(f"fetched_at {str(value)[:60]!r} is not a valid time: {exc}") from None
    if ts < EARLIEST_CAPTURE:
        raise EnvelopeError(f"fetched_at {ts.isoformat()} is before {EARLIEST_CAPTURE.year}")
    if ts > now + FUTURE_TOLERANCE:
        raise EnvelopeError(f"fetched_at {ts.isoformat()} is in the future")
    return ts


def _ts_hint(value: Any) -> str:
    return f"fetched_at must be an ISO 8601 time with a zone, got {type(value).__name__}"


def _status(value: Any) -> int:
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 100 <= value <= 599:
        raise EnvelopeError(f"status must be an HTTP status code, got {str(value)[:40]!r}")
    return value


def _check_body(body: Any) -> None:
    """Depth, text and numbers a database can store, checked without recursion."""
    stack: list[tuple[Any, int]] = [(body, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            if depth > MAX_BODY_DEPTH:
                raise EnvelopeError(f"body is nested deeper than {MAX_BODY_DEPTH} levels")
            for key, item in value.items():
                _clean_text(key, "body")
                stack.append((item, depth + 1))
        elif isinstance(value, list):
            if depth > MAX_BODY_DEPTH:
                raise EnvelopeError(f"body is nested deeper than {MAX_BODY_DEPTH} levels")
            stack.extend((item, depth + 1) for item in value)
        elif isinstance(value, str):
            _clean_text(value, "body")
        elif isinstance(value, float) and not math.isfinite(value):
            raise EnvelopeError("body holds a number out of range")


def parse_envelope(env: object, source: str, now: datetime | None = None) -> RawRecord:
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
    # round_id groups the pages of one listing; elsewhere it means nothing and may be absent
    round_id = _text(env, "round_id", required=entry.is_listing)
    fetched_at = _fetched_at(env.get("fetched_at"), now or utcnow())
    status = _status(env.get("status"))
    if "body" not in env:
        raise EnvelopeError("missing field 'body'")
    body = env["body"]
    _check_body(body)
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
        task_id=_text(env, "task_id", required=False),
        source=source,
    )


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:40]} is out of range")
    return value


def decode_envelope(raw: bytes) -> Any:
    """Bytes of one envelope → JSON value, or EnvelopeError (bad UTF-8, bad JSON, too deep,
    numbers no database can hold)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EnvelopeError(f"invalid UTF-8 at byte {exc.start}") from None
    try:
        return json.loads(
            text.removeprefix("\ufeff"),
            parse_constant=_reject_constant,
            parse_float=_finite_float,
        )
    except RecursionError:
        raise EnvelopeError("invalid JSON: nested too deeply to read") from None
    except ValueError as exc:  # JSONDecodeError, and int/float conversion limits
        if "Exceeds the limit" in str(exc):
            raise EnvelopeError("a number is out of range (thousands of digits)") from None
        raise EnvelopeError(f"invalid JSON: {exc}") from None


# -- reading files as streams ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Chunk:
    line: int
    raw: bytes
    oversize: bool = False
    problem: str | None = None


def _jsonl(stream: IO[bytes]) -> Iterator[_Chunk]:
    line_no = 0
    while True:
        line = stream.readline(MAX_ENVELOPE_BYTES + 1)
        if not line:
            return
        line_no += 1
        if len(line) > MAX_ENVELOPE_BYTES and not line.endswith(b"\n"):
            kept = line[:KEPT_PREFIX_BYTES]
            while line and not line.endswith(b"\n"):  # skip the rest of the line
                line = stream.readline(MAX_ENVELOPE_BYTES)
            yield _Chunk(line_no, kept, oversize=True)
            continue
        if line_no == 1:
            line = line.removeprefix(b"\xef\xbb\xbf")
        if line.strip():
            yield _Chunk(line_no, line.rstrip(b"\r\n"))


_IN_STRING = re.compile(rb'["\\\n]')
_OUTSIDE = re.compile(rb'["\[\]{},\n]')


def _json_document(stream: IO[bytes]) -> Iterator[_Chunk]:
    """A .json file: one envelope, or a top-level array whose elements are envelopes."""
    head = stream.read(4096).removeprefix(b"\xef\xbb\xbf")
    start = len(head) - len(head.lstrip())
    if head[start : start + 1] == b"[":
        yield from _array_elements(stream, head[start + 1 :], line=1 + head[:start].count(b"\n"))
        return
    data = head + stream.read(MAX_ENVELOPE_BYTES + 1 - len(head))
    if len(data) > MAX_ENVELOPE_BYTES:
        yield _Chunk(1, data[:KEPT_PREFIX_BYTES], oversize=True)
    elif data.strip():
        yield _Chunk(1, data)


def _array_elements(stream: IO[bytes], data: bytes, line: int) -> Iterator[_Chunk]:
    """Split a top-level JSON array into its elements' bytes without parsing them: strings and
    nesting are tracked (a comma inside a value does not split), memory holds one element."""
    depth = 0  # nesting inside the current element
    in_string = escaped = closed = oversize = False
    element = bytearray()
    element_line: int | None = None

    def add(part: bytes) -> None:
        nonlocal oversize
        if not oversize:
            element.extend(part)
            if len(element) > MAX_ENVELOPE_BYTES:
                del element[KEPT_PREFIX_BYTES:]
                oversize = True

    while data:
        i, n = 0, len(data)
        while i < n:
            if escaped:  # the byte after a backslash inside a string
                add(data[i : i + 1])
                escaped = False
                i += 1
                continue
            match = (_IN_STRING if in_string else _OUTSIDE).search(data, i)
            end = match.start() if match else n
            segment = data[i:end]
            if segment and closed and segment.strip():
                yield _Chunk(line, b"", problem="text after the closing ] of the array")
                return
            if segment and not closed:
                if element_line is None and segment.strip():
                    element_line = line
                if element_line is not None:
                    add(segment)
            if match is None:
                break
            byte = data[end : end + 1]
            i = end + 1
            if byte == b"\n":
                line += 1
                if element_line is not None:
                    add(byte)
                continue
            if closed:
                yield _Chunk(line, b"", problem="text after the closing ] of the array")
                return
            if in_string:
                add(byte)
                if byte == b"\\":
                    escaped = True
                elif byte == b'"':
                    in_string = False
                continue
            if depth == 0 and byte in (b",", b"]"):
                if element_line is not None:
                    yield _Chunk(element_line, bytes(element), oversize=oversize)
                elif byte == b",":
                    yield _Chunk(line, b"", problem="empty element in the array")
                element.clear()
                element_line = None
                oversize = False
                closed = byte == b"]"
                continue
            if element_line is None:
                element_line = line
            add(byte)
            if byte == b'"':
                in_string = True
            elif byte in (b"{", b"["):
                depth += 1
            elif byte in (b"}", b"]"):
                depth -= 1
        data = stream.read(1 << 20)
    if not closed:
        yield _Chunk(
            element_line or line,
            bytes(element[:KEPT_PREFIX_BYTES]),
            problem="the file ends inside the array (no closing ])",
        )


def _open(path: Path) -> IO[bytes]:
    return gzip.open(path, "rb") if path.name.endswith(".gz") else path.open("rb")


def _chunks(path: Path) -> Iterator[_Chunk]:
    with _open(path) as stream:
        name = path.name.removesuffix(".gz")
        yield from (_jsonl(stream) if name.endswith(".jsonl") else _json_document(stream))


def _loadable(path: Path) -> bool:
    return path.name.endswith(SUFFIXES)


def discover(path: Path) -> list[Path]:
    """The envelope files at `path` (a file, or a folder searched recursively), sorted."""
    if path.is_file():
        return [path]
    if not path.exists():
        raise FileNotFoundError(f"no such file or directory: {path}")
    return sorted(p for p in path.rglob("*") if p.is_file() and _loadable(p))


def skipped_files(path: Path) -> list[Path]:
    """Files in a folder that are not envelope files (listed, never read)."""
    if not path.is_dir():
        return []
    return sorted(p for p in path.rglob("*") if p.is_file() and not _loadable(p))


# -- loading ---------------------------------------------------------------------------------------


@dataclass
class _Batch:
    records: list[RawRecord] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    rejected: list[tuple[int, str, str]] = field(default_factory=list)
    size: int = 0

    def full(self) -> bool:
        return len(self.records) + len(self.rejected) >= BATCH_ENVELOPES or self.size >= BATCH_BYTES


def _raw_text(raw: bytes) -> str:
    """What rejected_envelopes keeps of a bad envelope: its text, undecodable bytes escaped."""
    return raw.decode("utf-8", errors="backslashreplace").replace("\x00", "\\u0000")


def _insert_rejections(
    conn: psycopg.Connection, name: str, rows: list[tuple[int, str, str]], key: str
) -> int:
    """Keep the rejected envelopes, except those naming a suppressed account; returns how many
    were dropped for that."""
    suppressed = suppression.load(conn, key) if rows else None
    dropped = 0
    for line_no, reason, raw in rows:
        text = raw.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
        if suppressed and suppressed.text(text):
            dropped += 1
            continue
        conn.execute(
            "insert into bronze.rejected_envelopes "
            "(source_file, line_no, reason, raw_line, raw_hash) "
            "values (%s, %s, %s, %s, %s) on conflict do nothing",
            (name, line_no, reason, text, hashlib.sha256(text.encode()).hexdigest()),
        )
    return dropped


def _flush(
    conn: psycopg.Connection, name: str, batch: _Batch, report: ImportReport, key: str
) -> None:
    """Commit one batch. Should the database refuse a record, retry one by one and move each
    refused record to the rejections with the database's reason: the batch's good records load."""
    counts: dict[str, int] = {}
    try:
        with conn.transaction():
            new = write_records(conn, batch.records, pseudonym_key=key, counts=counts)
            counts["rejected"] = _insert_rejections(conn, name, batch.rejected, key)
    except psycopg.DataError:
        new = 0
        counts = {}
        for line, record in zip(batch.lines, batch.records, strict=True):
            try:
                with conn.transaction():
                    new += write_records(conn, [record], pseudonym_key=key, counts=counts)
            except psycopg.DataError as exc:
                reason = f"the database refused it: {str(exc).splitlines()[0]}"
                batch.rejected.append((line, reason, record.body_text[:KEPT_PREFIX_BYTES]))
                report.reject(Rejection(name, line, reason))
        with conn.transaction():
            counts["rejected"] = _insert_rejections(conn, name, batch.rejected, key)
    report.loaded += new
    report.suppressed += counts.get("suppressed", 0) + counts.get("rejected", 0)
    report.duplicates += len(batch.records) - new - counts.get("suppressed", 0)


def _import_file(
    conn: psycopg.Connection, file: Path, name: str, report: ImportReport, key: str
) -> None:
    source = f"file:{name}"
    now = utcnow()
    batch = _Batch()
    for chunk in _chunks(file):
        report.envelopes += 1
        reason = chunk.problem
        if reason is None and chunk.oversize:
            reason = (
                f"envelope larger than {MAX_ENVELOPE_BYTES // (1024 * 1024)} MiB (first MiB kept)"
            )
        record = None
        if reason is None:
            try:
                record = parse_envelope(decode_envelope(chunk.raw), source, now)
            except EnvelopeError as exc:
                reason = str(exc)
        if record is None:
            batch.rejected.append((chunk.line, reason, _raw_text(chunk.raw)))
            report.reject(Rejection(name, chunk.line, reason))
        else:
            batch.records.append(record)
            batch.lines.append(chunk.line)
        batch.size += len(chunk.raw)
        if batch.full():
            _flush(conn, name, batch, report, key)
            batch = _Batch()
    _flush(conn, name, batch, report, key)


def import_path(
    conn: psycopg.Connection, path: Path, pseudonym_key: str | None = None
) -> ImportReport:
    """Load every envelope under `path`, file by file, in committed batches; then refresh the
    planner's statistics of bronze (a bulk load leaves them stale, and transforms planned on
    stale statistics can go quadratic). Envelopes of suppressed accounts are counted, not
    stored; `pseudonym_key` (the key of the suppression list) defaults to the settings'."""
    if pseudonym_key is None:
        from analisa.core.settings import get_settings

        pseudonym_key = get_settings().pseudonym_key.get_secret_value()
    report = ImportReport()
    root = path if path.is_dir() else path.parent
    files = discover(path)
    report.skipped = [p.relative_to(root).as_posix() for p in skipped_files(path)]
    for file in files:
        name = file.relative_to(root).as_posix()
        try:
            _import_file(conn, file, name, report, pseudonym_key)
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            report.unreadable.append(Rejection(name, 0, f"could not read the file: {exc}"))
            continue
        report.files += 1
    if report.loaded:
        analyze_bronze(conn)
    return report


def analyze_bronze(conn: psycopg.Connection) -> None:
    """Fresh planner statistics for bronze (and its partitions)."""
    with conn.transaction():
        conn.execute("analyze bronze.raw_records")
