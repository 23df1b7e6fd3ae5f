"""The shared fixtures fall back to an embedded PostgreSQL only when nothing is configured and
services are not required: `make test` on a bare machine still runs the database tests, and CI
(ANALISA_REQUIRE_SERVICES=1) still fails when its PostgreSQL is missing.

Each case runs pytest in a child process on a one-test file that uses tests/conftest.py as a
plugin, with the default address pointed at a port where nothing listens."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[3]
NOTHING_LISTENS = "postgresql://postgres@127.0.0.1:1/postgres"
EMBEDDED_SUMMARY = "PostgreSQL: embedded for this session"

PROBE = textwrap.dedent(
    """
    import psycopg


    def test_database_on_the_session_server(server_url, db_url):
        print("SERVER_URL", server_url)
        with psycopg.connect(db_url) as conn:
            bronze = conn.execute(
                "select count(*) from information_schema.schemata where schema_name = 'bronze'"
            ).fetchone()[0]
            databases = conn.execute(
                "select count(*) from pg_database where datname like 'analisa_test_%'"
            ).fetchone()[0]
        assert (bronze, databases) == (1, 1)
    """
)


def _run_probe(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_probe.py").write_text(PROBE, encoding="utf-8")
    child_env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "ANALISA_REQUIRE_SERVICES", "PYTEST_ADDOPTS"}
    }
    child_env.update(ANALISA_TEST_DEFAULT_DATABASE_URL=NOTHING_LISTENS, **env)
    return subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "-p", "tests.conftest", "-p", "no:cacheprovider"),
            *("-s", "-ra", "--rootdir", str(tmp_path), str(tmp_path / "test_probe.py")),
        ],
        cwd=ROOT,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _postgres_processes_under(folder: str) -> list[int]:
    pids = []
    for proc in psutil.process_iter(attrs=["name", "cmdline"]):
        if proc.info["name"] == "postgres" and folder in " ".join(proc.info["cmdline"] or []):
            pids.append(proc.pid)
    return pids


def test_nothing_configured_runs_on_an_embedded_server_then_removes_it(tmp_path):
    result = _run_probe(tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "1 passed" in output
    match = re.search(rf"{EMBEDDED_SUMMARY} in (\S+) \(nothing answered at (\S+);", output)
    assert match and match.group(2) == NOTHING_LISTENS, output
    folder = match.group(1)
    # the probe's server is that embedded one, reached through a socket in its folder
    assert re.search(rf"SERVER_URL \S*\?host={re.escape(folder)}/", output), output
    assert not Path(folder).exists(), "the temporary folder outlived the session"
    assert _postgres_processes_under(folder) == [], "the embedded server outlived the session"


def test_required_services_fail_instead_of_falling_back(tmp_path):
    result = _run_probe(tmp_path, ANALISA_REQUIRE_SERVICES="1")
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "1 error" in output
    assert "PostgreSQL unavailable" in output and "(ANALISA_REQUIRE_SERVICES=1)" in output
    assert EMBEDDED_SUMMARY not in output


def test_an_explicit_database_url_is_never_replaced(tmp_path):
    result = _run_probe(tmp_path, DATABASE_URL=NOTHING_LISTENS)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "1 skipped" in output
    assert re.search(r"SKIPPED \[1\] .*PostgreSQL unavailable: connection failed", output), output
    assert EMBEDDED_SUMMARY not in output
