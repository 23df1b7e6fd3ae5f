"""dagster-dbt gives every dbt invocation its own folder under the project's target path
(`<op>-<run id>-<uuid>`, a few MB each: compiled SQL, run results, logs), and never removes one.
After each invocation the oldest are removed, keeping the newest few per op; dbt's own files at
the top of the folder (manifest.json, partial_parse.msgpack, ...) are never touched, except that
`keep_partial_parse` puts a finished invocation's parse state there for the next one."""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

# `<op name>-<first 7 of the run id>-<first 7 of a uuid>`, or the uuid part alone without a run
_RUN_FOLDER = re.compile(r"(?:(?P<op>\w+)-[0-9a-f]{7}-)?[0-9a-f]{7}")


def target_dir(project_dir: Path) -> Path:
    """Where dagster-dbt puts its invocation folders: DBT_TARGET_PATH, relative to the project."""
    path = Path(os.environ.get("DBT_TARGET_PATH", "target"))
    return path if path.is_absolute() else project_dir / path


PARTIAL_PARSE = "partial_parse.msgpack"


def keep_partial_parse(run_target: Path, target: Path) -> bool:
    """Make `run_target`'s partial_parse.msgpack the one dagster-dbt copies into the next
    invocation's folder. dbt keeps its parse only for the same connection (host, port, user,
    database) and files; `dbt parse` (the manifest) runs with another profile than a run, so
    without this every invocation parsed the whole project again. Replaced atomically: a
    concurrent invocation copies either the old file or the new one, and one made for another
    database only costs it the full parse it would have done anyway."""
    source = run_target / PARTIAL_PARSE
    if not source.is_file() or not target.is_dir():
        return False
    handle, temporary = tempfile.mkstemp(prefix=".partial_parse.", dir=target)
    os.close(handle)
    try:
        shutil.copyfile(source, temporary)
        os.replace(temporary, target / PARTIAL_PARSE)
    except OSError as exc:  # a cache: a failure costs the next invocation a full parse
        log.warning("dbt parse state not kept: %s", exc)
        Path(temporary).unlink(missing_ok=True)
        return False
    return True


def clean_target_runs(target: Path, keep: int) -> list[Path]:
    """Remove all but the `keep` newest invocation folders of each op; returns those removed."""
    if keep < 1:
        raise ValueError("keep at least the folder of the invocation that just ran")
    if not target.is_dir():
        return []
    by_op: dict[str, list[tuple[float, Path]]] = {}
    for path in target.iterdir():
        match = _RUN_FOLDER.fullmatch(path.name)
        if match is None or not path.is_dir() or path.is_symlink():
            continue
        try:
            mtime = path.stat().st_mtime
        except FileNotFoundError:  # removed by a concurrent clean-up
            continue
        by_op.setdefault(match.group("op") or "", []).append((mtime, path))
    removed = []
    for folders in by_op.values():
        folders.sort(key=lambda item: (item[0], item[1].name), reverse=True)
        for _, path in folders[keep:]:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    if removed:
        log.info("removed %d old dbt target folders from %s", len(removed), target)
    return removed
