"""Typed, partitioned, versioned Parquet exports of gold (and silver posts and snapshots).

Layout under the export root (a local folder or any fsspec URL: file://, s3://, memory://):

    manifest.json                      the pointer: the current version and its whole manifest
    versions/<build id>/manifest.json  the same manifest, kept with its version
    versions/<build id>/<table>/platform=instagram/capture_date=2026-11-02/part-00000.parquet

A build writes a whole new version folder, then replaces `manifest.json` in one step (a rename on
a local disk; one PUT on an object store, which readers see whole or not at all). A reader that
follows the manifest it read never sees half a partition or two versions mixed, and keeps
reading its version until that version is purged (`purge_old_versions`, run after each switch,
keeps `keep` older versions; erasure purges them all).

Tables are read in one repeatable-read snapshot (all tables of a version agree), each streamed
through a server-side cursor in batches ordered by partition, so one file is open at a time
and memory holds one batch, not a table.
"""

from __future__ import annotations

import contextlib
import json
import logging
import posixpath
import secrets
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

import psycopg
from psycopg import sql

from exports.schema import (
    SQL_CASTS,
    TABLES,
    ExportSchemaError,
    ExportTable,
    arrow_type,
    check_columns,
)

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
VERSIONS = "versions"
HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"
DEFAULT_BATCH_ROWS = 50_000
DEFAULT_MAX_ROWS_PER_FILE = 1_000_000
# A version folder newer than the current one is another build in progress, unless it is
# older than this: then its build died before switching, and it is removed.
ABANDONED_AFTER_SECONDS = 24 * 3600

__all__ = [
    "FORMAT_VERSION",
    "ExportSchemaError",
    "export_gold",
    "purge_old_versions",
    "read_manifest",
    "read_table",
]


# -- the export root ---------------------------------------------------------------------------


def filesystem(root: str, storage_options: dict[str, Any] | None = None):
    """(fsspec filesystem, path inside it) for a folder path or URL."""
    import fsspec.core

    fs, path = fsspec.core.url_to_fs(str(root), **(storage_options or {}))
    return fs, path.rstrip("/") or "/"


def _is_local(fs) -> bool:
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    return protocol in ("file", "local")


def _write_atomically(fs, path: str, data: bytes) -> None:
    """Replace `path` whole: a rename on a local disk; object stores replace objects whole."""
    if _is_local(fs):
        import os

        folder = posixpath.dirname(path)
        fs.makedirs(folder, exist_ok=True)
        tmp = posixpath.join(folder, f".{posixpath.basename(path)}.{secrets.token_hex(4)}.tmp")
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    else:
        fs.pipe_file(path, data)


def new_build_id(now: datetime | None = None) -> str:
    """Sorts by build time: `20261102T101500123456Z-1a2b3c`."""
    now = now or datetime.now(UTC)
    return now.strftime("%Y%m%dT%H%M%S%fZ") + "-" + secrets.token_hex(3)


def _build_time(build_id: str) -> datetime | None:
    try:
        return datetime.strptime(build_id.split("-", 1)[0], "%Y%m%dT%H%M%S%fZ").replace(tzinfo=UTC)
    except ValueError:
        return None


# -- writing -----------------------------------------------------------------------------------


def _relation_columns(conn: psycopg.Connection, relation: str) -> list[str]:
    schema, name = relation.split(".", 1)
    rows = conn.execute(
        "select attname from pg_attribute"
        " where attrelid = to_regclass(%s) and attnum > 0 and not attisdropped order by attnum",
        (sql.Identifier(schema, name).as_string(conn),),
    ).fetchall()
    return [r[0] for r in rows]


def _select(table: ExportTable) -> sql.Composed:
    """Every declared column cast to its kind, then the partition values; ordered by them."""
    items = [
        sql.SQL("{}::{}").format(sql.Identifier(n), sql.SQL(SQL_CASTS[k]))
        for n, k in table.file_columns
    ]
    if table.by_platform:
        items.append(sql.SQL("platform::text"))
    if table.date_column is not None:
        column = sql.Identifier(table.date_column)
        # the session runs in UTC, so a timestamptz's date is its UTC date
        items.append(sql.SQL("({}::timestamptz)::date").format(column))
    schema, name = table.relation.split(".", 1)
    query = sql.SQL("select {} from {}").format(
        sql.SQL(", ").join(items), sql.Identifier(schema, name)
    )
    width = len(table.file_columns)
    if table.partition_keys:
        positions = range(width + 1, width + 1 + len(table.partition_keys))
        query = query + sql.SQL(" order by {}").format(
            sql.SQL(", ").join(sql.SQL(str(p)) for p in positions)
        )
    return query


def _partition_folder(table: ExportTable, key: tuple) -> str:
    parts = []
    for (name, _), value in zip(table.partition_keys, key, strict=True):
        if value is None:
            text = HIVE_NULL
        elif isinstance(value, date):
            text = value.isoformat()
        else:
            text = quote(str(value), safe="")
        parts.append(f"{name}={text}")
    return "/".join(parts)


class _TableWriter:
    """One table's files: a new file per partition (rows arrive ordered by partition), and a
    new part once a file holds `max_rows` rows."""

    def __init__(self, fs, folder: str, table: ExportTable, max_rows: int) -> None:
        self.fs = fs
        self.folder = folder
        self.table = table
        self.max_rows = max_rows
        self.schema = table.file_schema()
        self.files: list[dict[str, Any]] = []
        self._key: tuple | None = None
        self._part = 0
        self._writer = None
        self._handle = None
        self._rows_in_file = 0

    def _open(self, key: tuple) -> None:
        import pyarrow.parquet as pq

        self._close()
        if key != self._key:
            self._part = 0
        else:
            self._part += 1
        self._key = key
        partition = _partition_folder(self.table, key)
        relative = posixpath.join(self.table.name, partition, f"part-{self._part:05d}.parquet")
        path = posixpath.join(self.folder, relative)
        self.fs.makedirs(posixpath.dirname(path), exist_ok=True)
        self._handle = self.fs.open(path, "wb")
        self._writer = pq.ParquetWriter(self._handle, self.schema, compression="zstd")
        self._rows_in_file = 0
        self.files.append(
            {
                "path": relative,
                "rows": 0,
                "partition": {
                    name: (value.isoformat() if isinstance(value, date) else value)
                    for (name, _), value in zip(self.table.partition_keys, key, strict=True)
                },
            }
        )

    def _close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._handle.close()
            self._writer = self._handle = None

    def write(self, key: tuple, rows: list[tuple]) -> None:
        import pyarrow as pa

        while rows:
            if self._writer is None or key != self._key or self._rows_in_file >= self.max_rows:
                self._open(key)
            room = self.max_rows - self._rows_in_file
            chunk, rows = rows[:room], rows[room:]
            columns = list(zip(*chunk, strict=True)) if chunk else []
            arrays = [
                pa.array(values, type=field.type)
                for values, field in zip(columns, self.schema, strict=True)
            ]
            self._writer.write_batch(pa.RecordBatch.from_arrays(arrays, schema=self.schema))
            self._rows_in_file += len(chunk)
            self.files[-1]["rows"] += len(chunk)

    def finish(self) -> list[dict[str, Any]]:
        if not self.files:
            # an empty table still gets one (empty) file: readers see its columns and types
            key = tuple(None for _ in self.table.partition_keys)
            self._open(key)
        self._close()
        return self.files


def _groups(rows: Iterable[tuple], width: int, keys: int) -> Iterator[tuple[tuple, list[tuple]]]:
    """Consecutive rows with the same partition values: (key, rows without the key columns)."""
    key: tuple | None = None
    group: list[tuple] = []
    for row in rows:
        row_key = tuple(row[width:]) if keys else ()
        if row_key != key and group:
            yield key, group  # type: ignore[misc]
            group = []
        key = row_key
        group.append(row[:width])
    if group:
        yield key, group  # type: ignore[misc]


def _export_table(
    conn: psycopg.Connection,
    fs,
    folder: str,
    table: ExportTable,
    batch_rows: int,
    max_rows_per_file: int,
) -> dict[str, Any]:
    writer = _TableWriter(fs, folder, table, max_rows_per_file)
    width = len(table.file_columns)
    keys = len(table.partition_keys)
    rows_total = 0
    # a named cursor is server-side: rows arrive `batch_rows` at a time
    with conn.cursor(name=f"export_{table.name}") as cur:
        cur.itersize = batch_rows
        cur.execute(_select(table))
        while batch := cur.fetchmany(batch_rows):
            for key, group in _groups(batch, width, keys):
                writer.write(key, group)
            rows_total += len(batch)
    files = writer.finish()
    return {
        "relation": table.relation,
        "layer": table.schema_name,
        "description": table.description,
        "path": table.name,
        "rows": rows_total,
        "partitioning": {
            "flavor": "hive",
            "keys": [
                {
                    "name": name,
                    "kind": kind,
                    "type": str(arrow_type(kind)),
                    "source": "platform" if name == "platform" else table.date_column,
                }
                for name, kind in table.partition_keys
            ],
        },
        "columns": [
            {
                "name": name,
                "kind": kind,
                "type": str(arrow_type(kind)),
                "in": "path" if name in {k for k, _ in table.partition_keys} else "file",
            }
            for name, kind in table.columns
        ],
        "files": files,
    }


def export_gold(
    database_url: str,
    root: str,
    *,
    keep: int = 0,
    tables: Iterable[ExportTable] = TABLES,
    gold_version: int | None = None,
    storage_options: dict[str, Any] | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    max_rows_per_file: int = DEFAULT_MAX_ROWS_PER_FILE,
) -> dict[str, Any]:
    """Write every declared table as a new version under `root`, switch to it, purge older
    versions beyond `keep`, and return the manifest.

    `keep` defaults to 0: called as `export_gold(url, root)` (as an erasure does), no earlier
    version survives the call. The pipeline and `analisa export` keep
    ANALISA_EXPORT_KEEP_VERSIONS older versions for readers still on them.

    Every table's columns are checked against its declaration before anything is written:
    a missing or undeclared column raises ExportSchemaError and the current version stays.
    """
    if keep < 0:
        raise ValueError("keep must be 0 or more")
    if batch_rows < 1 or max_rows_per_file < 1:
        raise ValueError("batch_rows and max_rows_per_file must be at least 1")
    tables = tuple(tables)
    fs, base = filesystem(root, storage_options)
    build_id = new_build_id()
    version_folder = posixpath.join(base, VERSIONS, build_id)
    started = datetime.now(UTC)
    entries: dict[str, Any] = {}
    try:
        with psycopg.connect(database_url) as conn:
            conn.read_only = True
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            with conn.transaction():
                conn.execute("set local timezone to 'UTC'")
                for table in tables:
                    check_columns(table, _relation_columns(conn, table.relation))
                for table in tables:
                    entries[table.name] = _export_table(
                        conn, fs, version_folder, table, batch_rows, max_rows_per_file
                    )
        manifest = {
            "format_version": FORMAT_VERSION,
            "build_id": build_id,
            "built_at": datetime.now(UTC).isoformat(),
            "started_at": started.isoformat(),
            "gold_version": gold_version,
            "version_path": posixpath.join(VERSIONS, build_id),
            "compression": "zstd",
            "tables": entries,
        }
        data = json.dumps(manifest, indent=2, sort_keys=False).encode()
        fs.pipe_file(posixpath.join(version_folder, MANIFEST), data)
    except BaseException:
        # nothing points at the unfinished version: remove it, keep the current one
        with contextlib.suppress(Exception):
            if fs.exists(version_folder):
                fs.rm(version_folder, recursive=True)
        raise
    _write_atomically(fs, posixpath.join(base, MANIFEST), data)
    log.info("export %s written: %d tables", build_id, len(entries))
    purge_old_versions(root, keep=keep, storage_options=storage_options)
    return manifest


# -- versions ----------------------------------------------------------------------------------


def read_manifest(root: str, storage_options: dict[str, Any] | None = None) -> dict[str, Any]:
    """The current version's manifest; FileNotFoundError before the first export."""
    fs, base = filesystem(root, storage_options)
    path = posixpath.join(base, MANIFEST)
    try:
        return json.loads(fs.cat_file(path))
    except FileNotFoundError:
        raise FileNotFoundError(f"no export under {root}: run `analisa export` first") from None


def purge_old_versions(
    root: str,
    keep: int = 0,
    *,
    storage_options: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> list[str]:
    """Remove versions older than the current one beyond the newest `keep`, builds abandoned
    before their switch, and the files of the layout before versions (`gold/*.parquet`).

    A version newer than the current one is another build still writing, and is left alone
    unless it is older than a day. Returns the removed version ids.
    """
    if keep < 0:
        raise ValueError("keep must be 0 or more")
    fs, base = filesystem(root, storage_options)
    now = now or datetime.now(UTC)
    try:
        current = json.loads(fs.cat_file(posixpath.join(base, MANIFEST)))["build_id"]
    except FileNotFoundError:
        current = None
    folder = posixpath.join(base, VERSIONS)
    try:
        found = sorted(
            posixpath.basename(p.rstrip("/")) for p in fs.ls(folder, detail=False) if fs.isdir(p)
        )
    except FileNotFoundError:
        found = []
    older = [v for v in found if current is not None and v < current]
    doomed = older[: max(len(older) - keep, 0)]
    for version in found:
        if version == current or version in older:
            continue
        built = _build_time(version)
        if built is None or (now - built).total_seconds() > ABANDONED_AFTER_SECONDS:
            doomed.append(version)
    for version in doomed:
        fs.rm(posixpath.join(folder, version), recursive=True)
    # exports before versions were flat files under gold/: stale copies once a version exists
    legacy = posixpath.join(base, "gold")
    if current is not None and fs.exists(legacy):
        for path in fs.ls(legacy, detail=False):
            if path.endswith(".parquet") or path.endswith(".parquet.tmp"):
                fs.rm(path)
        with contextlib.suppress(Exception):
            if not fs.ls(legacy, detail=False):
                fs.rmdir(legacy)
    if doomed:
        log.info("export versions removed: %s", ", ".join(doomed))
    return doomed


# -- reading -----------------------------------------------------------------------------------


def dataset(
    root: str,
    name: str,
    *,
    manifest: dict[str, Any] | None = None,
    storage_options: dict[str, Any] | None = None,
):
    """A pyarrow dataset of one table in the current version (or in `manifest`'s version),
    with the declared types for columns and partition keys alike."""
    import pyarrow as pa
    import pyarrow.dataset as ds

    manifest = manifest or read_manifest(root, storage_options)
    entry = manifest["tables"][name]
    fs, base = filesystem(root, storage_options)
    folder = posixpath.join(base, manifest["version_path"], entry["path"])
    types = {c["name"]: arrow_type(c["kind"]) for c in entry["columns"]}
    keys = [k["name"] for k in entry["partitioning"]["keys"]]
    key_types = {k["name"]: arrow_type(k["kind"]) for k in entry["partitioning"]["keys"]}
    file_fields = [
        pa.field(c["name"], types[c["name"]]) for c in entry["columns"] if c["in"] == "file"
    ]
    schema = pa.schema(file_fields + [pa.field(k, key_types[k]) for k in keys])
    partitioning = (
        ds.partitioning(pa.schema([pa.field(k, key_types[k]) for k in keys]), flavor="hive")
        if keys
        else None
    )
    paths = [posixpath.join(base, manifest["version_path"], f["path"]) for f in entry["files"]]
    return ds.dataset(
        paths,
        schema=schema,
        format="parquet",
        filesystem=fs,
        partitioning=partitioning,
        partition_base_dir=folder,
    )


def read_table(
    root: str,
    name: str,
    *,
    manifest: dict[str, Any] | None = None,
    storage_options: dict[str, Any] | None = None,
):
    """One table of the current version as a pyarrow Table, columns in declared order."""
    data = dataset(root, name, manifest=manifest, storage_options=storage_options)
    manifest = manifest or read_manifest(root, storage_options)
    order = [c["name"] for c in manifest["tables"][name]["columns"]]
    extra = [f.name for f in data.schema if f.name not in order]
    return data.to_table().select(order + extra)
