"""`analisa export`, `db url`, `db serve` and `docs` on real databases: what they print, what
they refuse, and that what they hand out works."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import psycopg
import pytest
from psycopg import errors
from typer.testing import CliRunner

from analisa.cli import app
from analisa.cli.database import masked
from analisa.cli.docs import build_site, serve_site
from analisa.core.settings import get_settings
from tests.integration.exports.test_parquet import POSTS, create_tables, insert

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def cli_env(db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("ANALISA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    for name in (
        "ANALISA_ENV",
        "REDIS_URL",
        "AMQP_URL",
        "ANALISA_EXPORT_ROOT",
        "ANALISA_EXPORT_DIR",
    ):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield db_url
    get_settings.cache_clear()


def test_export_writes_a_version_and_lists_the_tables(cli_env, tmp_path):
    create_tables(cli_env)
    with psycopg.connect(cli_env, autocommit=True) as conn:
        insert(conn, "gold.fct_post_engagement", POSTS)
    root = tmp_path / "out"
    result = CliRunner().invoke(app, ["export", "--root", str(root), "--keep", "0"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((root / "manifest.json").read_text())
    assert manifest["tables"]["fct_post_engagement"]["rows"] == 3
    assert f"Export {manifest['build_id']} at {root}" in " ".join(result.output.split())
    assert re.search(r"gold\.fct_post_engagement\s.*\s3\s.*\s3\s", result.output)
    # the default root: ANALISA_EXPORT_DIR when ANALISA_EXPORT_ROOT is unset (earlier name)
    os.environ["ANALISA_EXPORT_DIR"] = str(tmp_path / "legacy")
    try:
        assert CliRunner().invoke(app, ["export"]).exit_code == 0
    finally:
        del os.environ["ANALISA_EXPORT_DIR"]
    assert (tmp_path / "legacy" / "manifest.json").exists()


def test_export_without_gold_says_so_and_writes_nothing(cli_env, tmp_path):
    root = tmp_path / "out"
    result = CliRunner().invoke(app, ["export", "--root", str(root)])
    assert result.exit_code == 1
    text = " ".join(result.output.split())
    assert "Nothing exported: gold.dim_influencers does not exist" in text
    assert not (root / "manifest.json").exists()


def test_db_url_hides_passwords_unless_asked(cli_env):
    with psycopg.connect(cli_env) as conn:
        role = conn.execute("select ops.analyst_role_name()").fetchone()[0]
    owner = CliRunner().invoke(app, ["db", "url"])
    assert owner.exit_code == 0, owner.output
    assert owner.output.strip().startswith("postgresql://postgres@127.0.0.1:5432/")
    assert masked("postgresql://u:secret@h:5/d") == "postgresql://u:****@h:5/d"

    analyst = CliRunner().invoke(app, ["db", "url", "--role", "analyst"])
    assert analyst.exit_code == 0, analyst.output
    first_line = analyst.output.splitlines()[0]
    assert first_line == f"postgresql://{role}@127.0.0.1:5432/{cli_env.rsplit('/', 1)[1]}"
    assert "--new-password sets one" in analyst.output

    fresh = CliRunner().invoke(app, ["db", "url", "--role", "analyst", "--new-password"])
    assert fresh.exit_code == 0, fresh.output
    url = fresh.output.splitlines()[0]
    password = re.fullmatch(rf"postgresql://{role}:([^@]+)@127\.0\.0\.1:5432/\w+", url).group(1)
    assert len(password) >= 24
    with psycopg.connect(cli_env) as conn:
        stored = conn.execute(
            "select rolpassword, rolcanlogin from pg_authid where rolname = %s", (role,)
        ).fetchone()
    # the server holds a SCRAM verifier, never the password
    assert stored[0].startswith("SCRAM-SHA-256$4096:") and password not in stored[0]
    assert stored[1] is True
    with psycopg.connect(url) as conn:
        assert conn.execute("select current_user").fetchone()[0] == role

    wrong = CliRunner().invoke(app, ["db", "url", "--new-password"])
    assert wrong.exit_code == 2


def test_db_serve_refuses_a_server_that_is_already_reachable(cli_env):
    result = CliRunner().invoke(app, ["db", "serve", "--port", "5599"])
    assert result.exit_code == 1
    assert "nothing to serve" in result.output


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.timeout(180)
def test_db_serve_opens_the_embedded_database_to_the_analyst_only(tmp_path):
    port = _free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "AMQP_URL", "ANALISA_ENV")
    }
    env.update(ANALISA_HOME=str(tmp_path / "home"), DAGSTER_HOME=str(tmp_path / "dagster"))
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "analisa"),
            "db",
            "serve",
            "--port",
            str(port),
            "--show-password",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = None
        for line in process.stdout:
            if line.startswith("postgresql://"):
                url = line.strip()
                break
        assert url, process.stderr.read()
        match = re.fullmatch(rf"postgresql://(\w+):([^@]+)@127\.0\.0\.1:{port}/postgres", url)
        role, password = match.groups()
        assert "_analyst_" in role
        with psycopg.connect(url, connect_timeout=10) as conn:
            assert conn.execute("select current_user").fetchone()[0] == role
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute("select count(*) from bronze.raw_records")
        # the password is checked (SCRAM), and the superuser cannot use the port at all
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(url.replace(password, "wrong-password"), connect_timeout=10)
        with pytest.raises(psycopg.OperationalError, match="cannot connect through this port"):
            psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres", connect_timeout=10)
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "no longer works" in out


@pytest.mark.timeout(180)
def test_docs_are_built_and_served_without_anything_from_elsewhere(db_url, tmp_path):
    site = build_site(db_url, tmp_path)
    assert sorted(p.name for p in site.iterdir()) == [
        "catalog.json",
        "index.html",
        "manifest.json",
        "static_index.html",
    ]
    manifest = json.loads((site / "manifest.json").read_text())
    # dbt's page loads its tracker from a CDN only when usage statistics are on
    assert manifest["metadata"]["send_anonymous_usage_stats"] is False
    for page in ("index.html", "static_index.html"):
        html = (site / page).read_text(encoding="utf-8")
        assert not re.search(r"<(script|link)[^>]+(src|href)=[\"'](https?:)?//", html), page
    likes = manifest["nodes"]["model.analisa.fct_post_engagement"]["columns"]["likes"]
    assert likes["description"]
    server = serve_site(site, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        assert httpx.get(base + "/").status_code == 200
        assert httpx.get(base + "/manifest.json").json()["metadata"]["project_name"] == "analisa"
        assert httpx.get(base + "/../target/").status_code == 404
    finally:
        server.shutdown()
        server.server_close()
