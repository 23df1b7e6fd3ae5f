"""The dbt kept warm between steps: the same answers as a dbt started for each command, the
session settings in its connections and nothing of them here, and no process left behind."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path

import pytest

from analisa.core.settings import Settings
from orchestration.defs.dbt.resources import dbt_executable, dbt_project_dir, profiles_yml
from orchestration.lib.dbt_server import MODULE, WarmDbt, parse_key
from orchestration.lib.dbt_session import session_fingerprint


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a child that ended but was not waited for yet is not running either
    state = Path(f"/proc/{pid}/stat")
    return not state.exists() or state.read_text().split(") ")[-1][:1] != "Z"


def _wait_gone(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.1)
    return False


def _run(
    launcher: Path, args: list[str], folder: Path, target: Path
) -> subprocess.CompletedProcess:
    """What dagster-dbt does: start "dbt" with its variables, in the project's folder."""
    env = {
        **os.environ,
        "DBT_LOG_FORMAT": "json",
        "DBT_TARGET_PATH": str(target),
        "DBT_LOG_PATH": str(target),
        "DBT_PROFILES_DIR": str(folder),
        "DBT_PROJECT_DIR": str(dbt_project_dir()),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    return subprocess.run(
        [str(launcher), *args],
        env=env,
        cwd=dbt_project_dir(),
        capture_output=True,
        text=True,
        timeout=300,
    )


def _events(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


@pytest.fixture
def warm():
    server = WarmDbt()
    yield server
    server.stop()


def test_commands_run_on_one_warm_dbt_with_the_session_key(db_url, tmp_path, warm, monkeypatch):
    key = f"warm key {uuid.uuid4().hex}"
    monkeypatch.setenv("ANALISA_PSEUDONYM_KEY", key)
    fingerprint = session_fingerprint(Settings())
    folder = tmp_path / "profile"
    folder.mkdir()
    (folder / "profiles.yml").write_text(profiles_yml(db_url), encoding="utf-8")
    launcher = warm.launcher(folder, dbt_executable(), fingerprint)
    pid = warm._process.pid
    assert key not in launcher.read_text()

    same = f"select current_setting('analisa.pseudonym_key') = '{key}' as same_key"
    # `show` runs as dbt alone would (no parsed project kept for it): the key is in the session
    first = _run(launcher, ["show", "--inline", same, "--output", "json"], folder, tmp_path / "t1")
    assert first.returncode == 0, first.stdout[-3000:]
    shown = [e["data"]["preview"] for e in _events(first.stdout) if e["info"]["name"] == "ShowNode"]
    assert json.loads(shown[0]) == [{"same_key": True}]
    # a build runs on the kept project: same server, the project parsed once
    build = ["build", "--select", "interest_taxonomy", "--exclude-resource-type", "unit_test"]
    for n in (2, 3):
        done = _run(launcher, build, folder, tmp_path / f"t{n}")
        assert done.returncode == 0, done.stdout[-3000:]
        finished = [  # what dagster-dbt reads: the nodes' results, at dbt's info level
            e["data"]["node_info"]["unique_id"]
            for e in _events(done.stdout)
            if e["data"].get("node_info", {}).get("node_status") == "success"
        ]
        assert "seed.analisa.interest_taxonomy" in finished
        assert (tmp_path / f"t{n}" / "run_results.json").exists()
    assert warm._process.pid == pid and _alive(pid)
    # what is not a command is dropped, and the server goes on
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as stray:
        stray.connect(warm.ensure(fingerprint)[0])
        stray.sendall(b"not a command\n")
        assert stray.recv(100) == b""
    # dbt's failures keep their exit codes: 2 for an error, the message in what it printed
    bad = _run(
        launcher, [*build[:2], "no_such_model_here", "--warn-error"], folder, tmp_path / "t4"
    )
    assert bad.returncode in (1, 2)
    assert "no_such_model_here" in bad.stdout
    # and this process never held the key in its environment
    assert "analisa.pseudonym_key" not in os.environ.get("PGOPTIONS", "")


def test_other_session_settings_start_another_server_and_a_gone_one_falls_back(
    db_url, tmp_path, warm, monkeypatch
):
    folder = tmp_path / "profile"
    folder.mkdir()
    (folder / "profiles.yml").write_text(profiles_yml(db_url), encoding="utf-8")
    monkeypatch.setenv("ANALISA_PSEUDONYM_KEY", "first warm key")
    warm.launcher(folder, dbt_executable(), session_fingerprint(Settings()))
    first = warm._process.pid
    monkeypatch.setenv("ANALISA_PSEUDONYM_KEY", "second warm key")
    launcher = warm.launcher(folder, dbt_executable(), session_fingerprint(Settings()))
    second = warm._process.pid
    assert second != first and _wait_gone(first, 10)

    # the server is gone (killed): the launcher runs dbt itself, with the key it reads then
    warm._process.kill()
    warm._process.wait()
    show = ["show", "--inline", "select current_setting('analisa.pseudonym_key') as k"]
    done = _run(launcher, show, folder, tmp_path / "t")
    assert done.returncode == 0, done.stdout[-3000:]
    assert "second warm key" in done.stdout


def test_the_server_ends_with_the_process_that_started_it(tmp_path):
    script = textwrap.dedent(
        f"""
        import os, sys
        from pathlib import Path
        sys.path.insert(0, {str(Path(__file__).resolve().parents[3])!r})
        from orchestration.lib.dbt_server import WarmDbt
        warm = WarmDbt()
        warm.launcher(Path({str(tmp_path)!r}), "dbt", "fingerprint")
        print(warm._process.pid, flush=True)
        os._exit(0)  # no clean-up of any kind
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    pid = int(done.stdout.strip())
    assert _wait_gone(pid, 15), "the dbt server outlived its parent"


def test_what_the_kept_project_depends_on(tmp_path):
    project = tmp_path / "project"
    (project / "models").mkdir(parents=True)
    (project / "dbt_project.yml").write_text("name: p\n")
    (project / "models" / "m.sql").write_text("select 1")
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "profiles.yml").write_text("p: {target: a}\n")
    env = {"DBT_PROJECT_DIR": str(project), "DBT_PROFILES_DIR": str(profiles), "A": "1"}
    key = parse_key(["build"], env, str(project))
    # what changes with every step does not parse again
    moved = {**env, "DBT_TARGET_PATH": "/elsewhere", "DBT_LOG_PATH": "/elsewhere"}
    assert parse_key(["build", "--select", "x"], moved, str(project)) == key
    other_profiles = tmp_path / "other"
    other_profiles.mkdir()
    (other_profiles / "profiles.yml").write_text("p: {target: a}\n")
    assert parse_key(["build"], {**env, "DBT_PROFILES_DIR": str(other_profiles)}, "") == key
    # the profile's text, the variables, the environment and the project's files do
    (other_profiles / "profiles.yml").write_text("p: {target: b}\n")
    assert parse_key(["build"], {**env, "DBT_PROFILES_DIR": str(other_profiles)}, "") != key
    assert parse_key(["build", "--vars", "{a: 1}"], env, str(project)) != key
    assert parse_key(["build", "--target", "other"], env, str(project)) != key
    assert parse_key(["build"], {**env, "A": "2"}, str(project)) != key
    later = time.time() + 5
    os.utime(project / "models" / "m.sql", (later, later))
    assert parse_key(["build"], env, str(project)) != key


def _fake_server(path: Path, reply: bytes | None) -> threading.Thread:
    """A server that takes one connection, reads the command, and sends `reply` (None: closes
    without a word, as a server that was ending does)."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(1)

    def answer():
        conn, _ = listener.accept()
        with conn:
            conn.makefile("rb").readline()
            if reply is not None:
                conn.sendall(reply)
        listener.close()

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    return thread


def _client(path: Path) -> subprocess.CompletedProcess:
    fallback = [sys.executable, "-c", "import sys; print('dbt itself', sys.argv[1:])"]
    return subprocess.run(
        [sys.executable, "-m", MODULE, "client", str(path), "0", *fallback, "--", "build", "-x"],
        cwd=Path(__file__).resolve().parents[3],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_client_runs_dbt_itself_when_no_server_takes_the_command(tmp_path):
    # no server at all
    done = _client(tmp_path / "none.sock")
    assert done.returncode == 0 and done.stdout == "dbt itself ['build', '-x']\n"
    # a server that closes without taking it
    thread = _fake_server(tmp_path / "closing.sock", None)
    done = _client(tmp_path / "closing.sock")
    thread.join(10)
    assert done.returncode == 0 and done.stdout == "dbt itself ['build', '-x']\n"
    # what a server printed, then its exit status, is the command's
    thread = _fake_server(tmp_path / "answers.sock", b'{"a": 1}\n\x00exit 1\n')
    done = _client(tmp_path / "answers.sock")
    thread.join(10)
    assert (done.returncode, done.stdout) == (1, '{"a": 1}\n')
    # a server that ends mid-command: not run twice, reported
    thread = _fake_server(tmp_path / "ends.sock", b'{"a": 1}\n')
    done = _client(tmp_path / "ends.sock")
    thread.join(10)
    assert (done.returncode, done.stdout) == (2, '{"a": 1}\n')
    assert "ended without an exit status" in done.stderr


def test_a_run_starts_dbt_before_its_first_dbt_step():
    """run_job starts the server when the run begins; the dbt steps then find it running."""
    from orchestration.defs.dbt.resources import WARM_DBT, prestart_dbt, warm_fingerprint

    WARM_DBT.stop()
    try:
        prestart_dbt()
        pid = WARM_DBT._process.pid
        assert _alive(pid)
        assert WARM_DBT.ensure(warm_fingerprint())[1] == pid
    finally:
        WARM_DBT.stop()
    assert _wait_gone(pid, 10)
