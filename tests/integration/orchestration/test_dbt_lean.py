"""What the warm dbt leaves out of a command (orchestration/lib/dbt_lean.py): events no log
writes, a new database connection per node, and compiling again the Jinja it compiled before.
What dbt writes and does stays the same."""

from __future__ import annotations

import io
import json
import marshal
import textwrap
from pathlib import Path

import psycopg
import pytest

from orchestration.defs.dbt.resources import profiles_yml
from orchestration.lib.dbt_lean import connections_reused, unwritten_events_skipped


def _fire_all(manager, events) -> None:
    for event in events:
        manager.fire_event(event)


def test_an_event_no_log_writes_is_not_formatted_and_what_is_written_is_unchanged(monkeypatch):
    from dbt.adapters.events.types import SQLQuery, SQLQueryStatus
    from dbt_common.events.base_types import EventLevel
    from dbt_common.events.event_manager import EventManager
    from dbt_common.events.logger import LineFormat, LoggerConfig, _JsonLogger
    from dbt_common.events.types import Note, PrintEvent

    events = [
        SQLQuery(conn_name="model.a", sql="select 1", node_info={}),  # debug
        SQLQueryStatus(status="SELECT 1", elapsed=0.01, node_info={}),  # debug
        Note(msg="a note"),  # info
        PrintEvent(msg="printed"),  # info, and written whatever the level
    ]
    formatted: list[str] = []
    dbt_create_line = _JsonLogger.create_line

    def counting_create_line(self, msg):
        formatted.append(f"{self.name}:{msg.info.name}")
        return dbt_create_line(self, msg)

    monkeypatch.setattr(_JsonLogger, "create_line", counting_create_line)

    def written(levels: dict[str, EventLevel], lean: bool) -> tuple[dict[str, list], list[str]]:
        formatted.clear()
        manager = EventManager()
        streams = {}
        for name, level in levels.items():
            streams[name] = io.StringIO()
            manager.add_logger(
                LoggerConfig(
                    name=f"lean_test_{name}",
                    level=level,
                    line_format=LineFormat.Json,
                    output_stream=streams[name],
                )
            )
        if lean:
            with unwritten_events_skipped():
                _fire_all(manager, events)
        else:
            _fire_all(manager, events)
        lines = {
            name: [json.loads(line)["info"]["name"] for line in stream.getvalue().splitlines()]
            for name, stream in streams.items()
        }
        return lines, list(formatted)

    info_only = {"stdout": EventLevel.INFO, "file": EventLevel.INFO}
    as_dbt, dbt_formatted = written(info_only, lean=False)
    lean, lean_formatted = written(info_only, lean=True)
    assert lean == as_dbt == {"stdout": ["Note", "PrintEvent"], "file": ["Note", "PrintEvent"]}
    # dbt formats all four events for both logs; the lean run only the two written
    assert len(dbt_formatted) == 8
    assert sorted(lean_formatted) == [
        "lean_test_file:Note",
        "lean_test_file:PrintEvent",
        "lean_test_stdout:Note",
        "lean_test_stdout:PrintEvent",
    ]

    # a log at debug (ANALISA_DBT_FILE_LOG_LEVEL=debug) still gets every event
    with_debug = {"stdout": EventLevel.INFO, "file": EventLevel.DEBUG}
    as_dbt, _ = written(with_debug, lean=False)
    lean, lean_formatted = written(with_debug, lean=True)
    assert lean == as_dbt
    assert lean["file"] == ["SQLQuery", "SQLQueryStatus", "Note", "PrintEvent"]
    assert lean["stdout"] == ["Note", "PrintEvent"]
    assert len(lean_formatted) == 6

    # dbt's own classes are back after the command
    assert EventManager.fire_event.__qualname__ == "EventManager.fire_event"


def test_a_debug_events_message_is_built_only_when_read(monkeypatch):
    from dbt.adapters.events.types import SQLQuery
    from dbt_common.events import base_types
    from dbt_common.events.types import Note

    built: list[str] = []
    parse = base_types.ParseDict

    def counting_parse(fields, message):
        built.append(type(message).__name__)
        return parse(fields, message)

    monkeypatch.setattr(base_types, "ParseDict", counting_parse)
    with unwritten_events_skipped():
        query = SQLQuery(conn_name="model.a", sql="select 1", node_info={})
        note = Note(msg="a note")
        assert built == ["Note"]  # an info event is built when made, as dbt builds it
        assert query.sql == "select 1"  # read: built then
        assert built == ["Note", "SQLQuery"]
        later = SQLQuery(conn_name="model.b", sql="select 2", node_info={})
    assert note.msg == "a note"
    # an event made during a command and read after it
    assert later.conn_name == "model.b" and later.to_dict()["sql"] == "select 2"
    assert built == ["Note", "SQLQuery", "SQLQuery"]
    made_after = SQLQuery(conn_name="model.c", sql="select 3", node_info={})
    assert built[-1] == "SQLQuery" and made_after.sql == "select 3"


def _project(folder: Path, url: str) -> Path:
    """Three models, each of which creates the same temporary table before it runs and reads
    back a setting its pre-hook changes: the second and third fail or see the first's setting
    if a session reaches them unreset."""
    (folder / "models").mkdir(parents=True)
    (folder / "dbt_project.yml").write_text(
        textwrap.dedent(
            """
            name: lean_check
            version: "1.0.0"
            config-version: 2
            profile: analisa
            models:
              lean_check:
                +materialized: table
            """
        ),
        encoding="utf-8",
    )
    (folder / "profiles.yml").write_text(profiles_yml(url, threads=1), encoding="utf-8")
    for name in ("first", "second", "third"):
        (folder / "models" / f"{name}.sql").write_text(
            textwrap.dedent(
                """
                {{ config(pre_hook=[
                    "select set_config('application_name', coalesce(
                        nullif(current_setting('application_name'), ''), 'unset')
                        || '+', false)",
                    "create temporary table session_scratch (n int)",
                ]) }}
                select pg_backend_pid() as backend, current_setting('application_name') as name
                """
            ),
            encoding="utf-8",
        )
    return folder


@pytest.mark.parametrize("lean", [False, True])
def test_nodes_share_a_reset_session_and_none_is_left_after_the_command(
    db_url, tmp_path, monkeypatch, lean
):
    from dbt.cli.main import dbtRunner

    project = _project(tmp_path / "project", db_url)
    monkeypatch.chdir(project)
    monkeypatch.setenv("DBT_PROFILES_DIR", str(project))
    monkeypatch.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    args = ["run", "--threads", "1", "--target-path", str(tmp_path / "target")]
    if lean:
        with connections_reused():
            result = dbtRunner().invoke(args)
    else:
        result = dbtRunner().invoke(args)
    assert result.success, result.exception

    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "select backend, name from analytics.first union all "
            "select backend, name from analytics.second union all "
            "select backend, name from analytics.third"
        ).fetchall()
        others = conn.execute(
            "select count(*) from pg_stat_activity "
            "where datname = current_database() and pid <> pg_backend_pid()"
        ).fetchone()[0]
    # every model saw the setting its own pre-hook made, not a previous model's
    assert [name for _, name in rows] == ["dbt+", "dbt+", "dbt+"]
    # dbt alone opens a session per node; the lean command one for all three
    assert len({backend for backend, _ in rows}) == (1 if lean else 3)
    assert others == 0

    from dbt.adapters.postgres.connections import PostgresConnectionManager

    assert "_close_handle" not in PostgresConnectionManager.__dict__


def test_a_text_is_compiled_once_and_its_code_serves_the_next_process(tmp_path, monkeypatch):
    import jinja2
    import jinja2.nativetypes

    from orchestration.lib.dbt_lean import templates_compiled_once

    parsed: list[str] = []
    jinja_parse = jinja2.Environment._parse

    def counting_parse(self, source, name, filename):
        parsed.append(source)
        return jinja_parse(self, source, name, filename)

    monkeypatch.setattr(jinja2.Environment, "_parse", counting_parse)
    folder = tmp_path / "compiled"
    text = "{% for n in range(count) %}{{ n * step }},{% endfor %}"

    with templates_compiled_once(folder):
        assert jinja2.Environment().from_string(text).render(count=3, step=2) == "0,2,4,"
        # the same text again in this process: from memory
        assert jinja2.Environment().from_string(text).render(count=2, step=5) == "0,5,"
        # another kind of environment compiles it to other code: kept apart
        native = jinja2.nativetypes.NativeEnvironment().from_string("{{ [count, step] }}")
        assert native.render(count=1, step=2) == [1, 2]
        with pytest.raises(jinja2.TemplateSyntaxError):
            jinja2.Environment().from_string("{% for n in %}")
    assert len(parsed) == 3  # the loop once, the native text once, the broken text once
    assert len(list(folder.iterdir())) == 2  # what failed to compile is not kept

    # "the next process": nothing in memory, the code read from the folder
    parsed.clear()
    with templates_compiled_once(folder):
        assert jinja2.Environment().from_string(text).render(count=4, step=1) == "0,1,2,3,"
        assert jinja2.Environment(trim_blocks=True).from_string(text).render(count=1, step=1) == (
            "0,"
        )
    assert parsed == [text]  # only the environment with other settings compiled it again

    # a file that cannot be read is compiled again and replaced
    for path in folder.iterdir():
        path.write_bytes(b"not code")
    parsed.clear()
    with templates_compiled_once(folder):
        assert jinja2.Environment().from_string(text).render(count=2, step=3) == "0,3,"
    assert parsed == [text]
    with templates_compiled_once(folder):
        assert jinja2.Environment().from_string(text).render(count=2, step=3) == "0,3,"
    assert parsed == [text]

    # a filter is applied to constants while compiling: another filter of the same name is
    # another environment; a `finalize` function is not kept at all
    shout = jinja2.Environment()
    shout.filters["upper"] = lambda value: f"{value}!"
    before = len(list(folder.iterdir()))
    parsed.clear()
    with templates_compiled_once(folder):
        assert jinja2.Environment().from_string("{{ 'a' | upper }}").render() == "A"
        assert shout.from_string("{{ 'a' | upper }}").render() == "a!"
        assert jinja2.Environment(finalize=str.strip).from_string("{{ ' b ' }}").render() == "b"
        assert jinja2.Environment(finalize=str.upper).from_string("{{ ' b ' }}").render() == (" B ")
    assert len(parsed) == 4
    assert len(list(folder.iterdir())) == before + 2

    # marshalled data that is not code is compiled again too
    for path in folder.iterdir():
        path.write_bytes(marshal.dumps(42))
    parsed.clear()
    with templates_compiled_once(folder):
        assert jinja2.Environment().from_string(text).render(count=1, step=1) == "0,"
    assert parsed == [text]

    # Jinja's own compilation is back after the command
    parsed.clear()
    jinja2.Environment().from_string(text)
    assert parsed == [text]


def test_the_oldest_compiled_texts_go_beyond_the_limit(tmp_path, monkeypatch):
    import os

    from orchestration.lib import dbt_lean

    folder = tmp_path / "compiled"
    folder.mkdir()
    for n in range(10):
        path = folder / f"{n:02d}"
        path.write_bytes(b"x")
        os.utime(path, (1_000_000 + n, 1_000_000 + n))
    monkeypatch.setattr(dbt_lean, "KEPT_TEMPLATES", 8)
    with dbt_lean.templates_compiled_once(folder):
        pass
    # over the limit: the oldest go until half the limit is left
    assert sorted(p.name for p in folder.iterdir()) == ["06", "07", "08", "09"]
