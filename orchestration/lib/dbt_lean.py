"""Work the warm dbt (orchestration/lib/dbt_server.py) leaves out of every command it runs:
what dbt would do and then throw away. Each is a context manager around one command.

Measured in a sampling profile of the server during an incremental build (benchmarks/
pipeline.py's data, 1 % new), the threads running nodes spent
- 8 % turning events into JSON lines that no log then wrote: dbt formats every event for
  every log, the SQL of each query included, and only then lets the log's level drop it
  (the step's output and the run folder's dbt.log keep info; the queries are debug);
- 3 % opening a database connection per node: dbt closes a node's connection when the node
  ends and the next node opens a new one, a new server process whose catalog caches start
  cold (its first query of the catalog took 14 ms instead of 5 ms);
- 17 % (in a server's first build, as every build of a new process is) compiling Jinja: each
  macro the first time a process calls it, each model's SQL, test arguments and hook each
  time, from the same text as in the last build.
Together, a build of silver and gold with no new data, on that data, in a new process, took
10.1 and 10.7 s instead of 19.5 and 19.7 s (two runs each, alternated).

Only the standard library is imported here; dbt's modules are imported when a command runs
(in the server, which has imported dbt already).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import marshal
import os
import sys
import tempfile
import threading
from pathlib import Path
from types import CodeType

# dbt's event levels, as its logs map them to the standard library's
_PYTHON_LEVELS = {
    "debug": logging.DEBUG,
    "test": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,
    "error": logging.ERROR,
}


@contextlib.contextmanager
def unwritten_events_skipped():
    """An event no log would write is not formatted, and, when nothing else listens, not built
    into a message either; a debug event's own message is built when something reads it.

    dbt's loggers (dbt_common's _Logger) format a line, then hand it to a standard logger whose
    level may drop it. Here a logger checks the level first. And dbt's event manager builds
    each event's message before asking the loggers: a debug event (a query's SQL, its status,
    a connection opened) is dropped before that when no logger would write it and the only
    listener is dbt's own usage tracking, which reads behaviour-change warnings alone. An
    event's fields are turned into their protobuf message when the event is made; for a debug
    event (of a fixed level) that waits until something reads the event, which a dropped event
    never is. A log set to debug (ANALISA_DBT_FILE_LOG_LEVEL=debug, or dbt's --debug) gets every
    event, as before.
    """
    from dbt.tracking import track_behavior_change_warn
    from dbt_common.events.base_types import BaseEvent, DynamicLevel, EventLevel
    from dbt_common.events.event_manager import EventManager
    from dbt_common.events.logger import PRINT_EVENT_NAMES, _Logger

    dbt_write_line, dbt_fire_event = _Logger.write_line, EventManager.fire_event
    dbt_init = BaseEvent.__init__
    quiet_levels = {EventLevel.DEBUG, EventLevel.TEST}

    def writes(logger, level: str, name: str) -> bool:
        python = logger._python_logger
        if python is None:  # a logger with nowhere to write writes nothing
            return False
        return name in PRINT_EVENT_NAMES or python.isEnabledFor(_PYTHON_LEVELS[level])

    def write_line(self, msg):
        if writes(self, msg.info.level, msg.info.name):
            dbt_write_line(self, msg)

    def fire_event(self, e, level=None, node=None, force_warn_or_error_handling=False):
        tag = level or e.level_tag()
        if (
            tag in quiet_levels
            and not force_warn_or_error_handling
            and all(callback is track_behavior_change_warn for callback in self.callbacks)
            and not any(writes(logger, tag.value, type(e).__name__) for logger in self.loggers)
        ):
            return
        dbt_fire_event(self, e, level, node, force_warn_or_error_handling)

    def init(self, *args, **kwargs):
        if not isinstance(self, DynamicLevel) and self.level_tag() in quiet_levels:
            object.__setattr__(self, "_pending_fields", (args, kwargs))
            return
        dbt_init(self, *args, **kwargs)

    _read_pending_fields(BaseEvent, dbt_init)
    _Logger.write_line, EventManager.fire_event = write_line, fire_event
    BaseEvent.__init__ = init
    try:
        yield
    finally:
        _Logger.write_line, EventManager.fire_event = dbt_write_line, dbt_fire_event
        BaseEvent.__init__ = dbt_init


def _read_pending_fields(event_class, dbt_init) -> None:
    """Install, once per process, the reader that builds a debug event's message when something
    reads the event. It stays after the command (an event made during one may be read later);
    for an event built when it was made it does what dbt's reader does."""
    if event_class.__dict__.get("_pending_fields_read"):
        return
    dbt_getattr = event_class.__getattr__

    def getattr_(self, key):
        pending = self.__dict__.pop("_pending_fields", None)
        if pending is not None:
            dbt_init(self, *pending[0], **pending[1])
            return getattr(self, key)
        return dbt_getattr(self, key)

    event_class.__getattr__ = getattr_
    event_class._pending_fields_read = True


@contextlib.contextmanager
def connections_reused():
    """A node's database connection serves the next node of the command instead of being closed.

    When dbt releases a node's connection, its session is reset instead (any transaction rolled
    back, then DISCARD ALL: temporary tables, settings, prepared statements, advisory locks and
    cached plans go, as they would with the connection) and kept; the next node that opens a
    connection with the same credentials takes it, and dbt's role is set again if its profile
    has one. A session that cannot be reset is closed, as dbt would. Every kept connection is
    closed when the command ends: between commands the server holds no connection (a database
    being dropped finds nobody on it).
    """
    import psycopg2
    from dbt.adapters.postgres.connections import PostgresConnectionManager

    kept: dict[str, list] = {}
    lock = threading.Lock()
    dbt_open = PostgresConnectionManager.__dict__["open"]
    own_close_handle = PostgresConnectionManager.__dict__.get("_close_handle")
    dbt_close_handle = PostgresConnectionManager._close_handle.__func__

    def key(credentials) -> str:
        return json.dumps(credentials.to_dict(), sort_keys=True, default=str)

    def reset(handle) -> bool:
        try:
            handle.rollback()
            autocommit = handle.autocommit
            handle.autocommit = True
            with handle.cursor() as cursor:
                cursor.execute("discard all")
            handle.autocommit = autocommit
        except psycopg2.Error:
            return False
        return True

    def open_(cls, connection):
        if connection.state == "open":
            return connection
        credentials = connection.credentials
        with lock:
            handles = kept.get(key(credentials))
            handle = handles.pop() if handles else None
        if handle is None:
            return dbt_open.__func__(cls, connection)
        if credentials.role:
            with handle.cursor() as cursor:
                cursor.execute(f"set role {credentials.role}")
        connection.handle = handle
        connection.state = "open"
        return connection

    def close_handle(cls, connection):
        handle = connection.handle
        if (
            isinstance(handle, psycopg2.extensions.connection)
            and not handle.closed
            and reset(handle)
        ):
            with lock:
                kept.setdefault(key(connection.credentials), []).append(handle)
            return
        dbt_close_handle(cls, connection)

    PostgresConnectionManager.open = classmethod(open_)
    PostgresConnectionManager._close_handle = classmethod(close_handle)
    try:
        yield
    finally:
        PostgresConnectionManager.open = dbt_open
        if own_close_handle is None:  # dbt's inherited one again
            del PostgresConnectionManager._close_handle
        else:
            PostgresConnectionManager._close_handle = own_close_handle
        with lock:
            handles = [handle for group in kept.values() for handle in group]
            kept.clear()
        for handle in handles:
            with contextlib.suppress(psycopg2.Error):
                handle.close()


# the compiled templates kept on disk, at most this many (the oldest go first)
KEPT_TEMPLATES = 4096


def _callable_names(functions: dict) -> list[tuple[str, str]]:
    return sorted(
        (name, f"{getattr(f, '__module__', '')}.{getattr(f, '__qualname__', type(f).__qualname__)}")
        for name, f in functions.items()
    )


def _environment_identity(environment, versions: str) -> str:
    """Everything of a Jinja environment the code it compiles a text to depends on: its
    settings, and the filters and tests by name and function (Jinja's optimizer applies them to
    constants while it compiles). `versions`: of Python, Jinja and dbt."""
    kind = type(environment)
    parts = (
        versions,
        f"{kind.__module__}.{kind.__qualname__}",
        environment.code_generator_class.__qualname__,
        sorted(environment.extensions),
        environment.block_start_string,
        environment.block_end_string,
        environment.variable_start_string,
        environment.variable_end_string,
        environment.comment_start_string,
        environment.comment_end_string,
        environment.line_statement_prefix,
        environment.line_comment_prefix,
        environment.trim_blocks,
        environment.lstrip_blocks,
        environment.newline_sequence,
        environment.keep_trailing_newline,
        environment.optimized,
        environment.is_async,
        repr(environment.autoescape),
        _callable_names(environment.filters),
        _callable_names(environment.tests),
    )
    return repr(parts)


@contextlib.contextmanager
def templates_compiled_once(folder: Path | None):
    """Each Jinja text dbt renders is compiled once, and kept for the next process.

    dbt compiles a macro the first time a process calls it (then keeps it for the process), and
    a model's SQL, a test's arguments and a hook's text every time it renders them. Jinja's
    compilation is a pure function of the text and the environment (its settings, filters and
    tests): here its code is kept by a hash of both, and of the versions of Python, Jinja and
    dbt, in memory and in `folder` (marshalled code, as Jinja's own bytecode cache keeps it);
    a later compilation of the same text in a like environment, in this process or the next,
    loads it. What fails to compile is not kept (its error is raised as before). dbt's macro
    debugging (DBT_MACRO_DEBUGGING, which names the compiled code after a file it writes) and
    an environment with a `finalize` function compile as Jinja does. A file that cannot be read
    is compiled again. `folder` None keeps the code in memory only.
    """
    import importlib.metadata

    import dbt_common.clients.jinja as dbt_jinja
    import jinja2

    versions = repr(
        (
            sys.version,
            marshal.version,
            jinja2.__version__,
            importlib.metadata.version("dbt-core"),
            importlib.metadata.version("dbt-common"),
        )
    )
    dbt_compile = jinja2.Environment.compile
    compiled: dict[str, object] = {}
    lock = threading.Lock()
    if folder is not None:
        with contextlib.suppress(OSError):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            _prune(folder, KEPT_TEMPLATES)

    def load(key: str):
        if folder is None:
            return None
        try:
            code = marshal.loads((folder / key).read_bytes())
        except (OSError, EOFError, ValueError, TypeError):
            return None
        return code if isinstance(code, CodeType) else None

    def keep(key: str, code) -> None:
        if folder is None:
            return
        with contextlib.suppress(OSError):
            handle, temporary = tempfile.mkstemp(dir=folder, prefix=".part-")
            try:
                with os.fdopen(handle, "wb") as out:
                    out.write(marshal.dumps(code))
                os.replace(temporary, folder / key)
            except (OSError, ValueError):
                with contextlib.suppress(OSError):
                    os.unlink(temporary)

    def compile_(self, source, name=None, filename=None, raw=False, defer_init=False):
        if (
            raw
            or not isinstance(source, str)
            or dbt_jinja.MACRO_DEBUGGING
            or self.finalize is not None  # applied to constants while compiling: any function
        ):
            return dbt_compile(self, source, name, filename, raw, defer_init)
        digest = hashlib.sha256(
            repr(
                (_environment_identity(self, versions), name, filename, defer_init, source)
            ).encode("utf-8", "surrogatepass")
        ).hexdigest()
        with lock:
            code = compiled.get(digest)
        if code is None:
            code = load(digest)
            if code is None:
                code = dbt_compile(self, source, name, filename, raw, defer_init)
                keep(digest, code)
            with lock:
                compiled[digest] = code
        return code

    jinja2.Environment.compile = compile_
    try:
        yield
    finally:
        jinja2.Environment.compile = dbt_compile


def _prune(folder: Path, keep: int) -> None:
    """Remove the oldest compiled templates beyond `keep` (a project's texts change with its
    releases; what an older release compiled is not read again)."""
    entries = []
    for entry in os.scandir(folder):
        with contextlib.suppress(OSError):
            entries.append((entry.stat().st_mtime, entry.path))
    if len(entries) <= keep:
        return
    entries.sort()
    for _, path in entries[: len(entries) - keep // 2]:
        with contextlib.suppress(OSError):
            os.unlink(path)
