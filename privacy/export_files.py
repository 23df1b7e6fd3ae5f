"""Parquet exports after an erasure: no file may still hold the person.

When the exports package offers `exports.parquet.export_gold(database_url, root)` (a complete
new snapshot, written atomically, the previous ones removed), the export is rewritten from the
erased database. Then, and in any case, every Parquet file under the root (a folder or any
fsspec URL, s3:// included) is read with pyarrow: a file holding the person is rewritten
without their rows (same schema; on a local disk written aside and renamed into place, on an
object store replaced whole) and their id or username is replaced inside other rows' texts.
Other files (manifests, JSON) are scanned and reported.
"""

from __future__ import annotations

import importlib
import io
import os
import posixpath
import secrets
from typing import Any

from privacy.matching import Terms

TEXT_SUFFIXES = (".json", ".jsonl", ".csv", ".txt", ".md")


class Root:
    """An export location: fsspec filesystem and the folder inside it."""

    def __init__(self, location: str) -> None:
        import fsspec.core

        self.fs, path = fsspec.core.url_to_fs(str(location))
        self.base = path.rstrip("/") or "/"
        protocol = self.fs.protocol if isinstance(self.fs.protocol, str) else self.fs.protocol[0]
        self.local = protocol in ("file", "local")

    def files(self) -> list[str]:
        if not self.fs.exists(self.base):
            return []
        return sorted(p for p in self.fs.find(self.base) if not p.endswith(".erasing"))

    def relative(self, path: str) -> str:
        return posixpath.relpath(path, self.base)

    def read_table(self, path: str):
        import pyarrow.parquet as pq

        with self.fs.open(path, "rb") as handle:
            return pq.read_table(io.BytesIO(handle.read()))

    def replace(self, path: str, data: bytes) -> None:
        """Whole-file replacement: rename over it on a local disk; object stores replace
        objects whole on write."""
        if not self.local:
            with self.fs.open(path, "wb") as handle:
                handle.write(data)
            return
        tmp = posixpath.join(
            posixpath.dirname(path), f".{posixpath.basename(path)}.{secrets.token_hex(4)}.erasing"
        )
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)


def has_files(root: Root) -> bool:
    return bool(root.files())


def rewrite_snapshot(database_url: str, root: str) -> dict | None:
    """A complete new export through the exports package, when it exists; else None."""
    try:
        module = importlib.import_module("exports.parquet")
    except ImportError:
        return None
    export_gold = getattr(module, "export_gold", None)
    if export_gold is None:
        return None
    result = export_gold(database_url, str(root))
    return result if isinstance(result, dict) else {"result": str(result)}


POST_ID_SUFFIXES = ("post_id", "media_id", "video_id")


def _row_mask(
    table, terms: Terms, platform: str, post_ids: frozenset[str] = frozenset()
) -> tuple[list[bool], dict[str, list], set[int]]:
    """(rows about the person, {column: values with mentions replaced}, rows mentioning them)
    of one Parquet table."""
    import pyarrow as pa

    n = table.num_rows
    about = [False] * n
    platforms = table.column("platform").to_pylist() if "platform" in table.column_names else None
    replaced: dict[str, list] = {}
    mentioned: set[int] = set()
    for name in table.column_names:
        column = table.column(name)
        if post_ids and name.endswith(POST_ID_SUFFIXES):
            for i, v in enumerate(column.to_pylist()):
                if (
                    v is not None
                    and str(v) in post_ids
                    and (platforms is None or platforms[i] in (None, platform))
                ):
                    about[i] = True
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            if pa.types.is_integer(column.type) and (
                name.endswith("account_id") or name in ("open_id", "creator_id")
            ):
                values = column.to_pylist()
                for i, v in enumerate(values):
                    if v is not None and terms.equals(v):
                        about[i] = True
            continue
        values = column.to_pylist()
        new_values, changed = list(values), False
        for i, v in enumerate(values):
            if v is None or (platforms is not None and platforms[i] not in (None, platform)):
                continue
            if terms.equals(v):
                about[i] = True
            elif terms.in_text(v):
                new_values[i] = terms.redact_text(v)
                changed = True
                mentioned.add(i)
        if changed:
            replaced[name] = new_values
    return about, replaced, mentioned


def scrub_file(
    root: Root, path: str, terms: Terms, platform: str, post_ids: frozenset[str] = frozenset()
) -> tuple[int, int]:
    """(rows removed, rows scrubbed) of one Parquet file, rewritten whole if changed."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = root.read_table(path)
    about, replaced, mentioned = _row_mask(table, terms, platform, post_ids)
    removed = sum(about)
    if not removed and not replaced:
        return 0, 0
    for name, values in replaced.items():
        index = table.column_names.index(name)
        table = table.set_column(
            index, table.field(name), pa.array(values, table.schema.field(name).type)
        )
    scrubbed = sum(1 for i in mentioned if not about[i])
    keep = pa.array([not a for a in about])
    table = table.filter(keep)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    root.replace(path, sink.getvalue().to_pybytes())
    return removed, scrubbed


def scrub(
    root: Root, terms: Terms, platform: str, post_ids: frozenset[str] = frozenset()
) -> dict[str, Any]:
    files = removed = scrubbed = 0
    for path in root.files():
        if not path.endswith(".parquet"):
            continue
        r, s = scrub_file(root, path, terms, platform, post_ids)
        if r or s:
            files += 1
            removed += r
            scrubbed += s
    return {"files_rewritten": files, "rows_removed": removed, "rows_scrubbed": scrubbed}


def remaining(
    root: Root, terms: Terms, platform: str, post_ids: frozenset[str] = frozenset()
) -> dict[str, int]:
    """{file: rows (Parquet) or 1 (other text files) still naming the person}."""
    left: dict[str, int] = {}
    for path in root.files():
        rel = root.relative(path)
        if path.endswith(".parquet"):
            about, _, mentioned = _row_mask(root.read_table(path), terms, platform, post_ids)
            n = len({i for i, a in enumerate(about) if a} | mentioned)
            if n:
                left[rel] = n
        elif path.endswith(TEXT_SUFFIXES):
            text = root.fs.cat_file(path).decode("utf-8", errors="replace")
            if terms.in_text(text):
                left[rel] = 1
    return left
