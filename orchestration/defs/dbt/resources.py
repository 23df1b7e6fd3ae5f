"""The one DbtProject, and the dbt CLI of a run. The manifest is made here when it is missing or
older than the project's files: `prepare_if_dev()` only does that under `dagster dev`, and the
CLI and tests load these definitions without it.

A run's dbt reaches the database through a profile written for that run in a private temporary
folder (removed afterwards), never through variables written into this process's environment."""

from __future__ import annotations

import atexit
import contextlib
import importlib.metadata
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import yaml
from dagster_dbt import DbtCliResource, DbtProject
from packaging import version

from analisa.core.db import normalize_url, url_parts
from analisa.core.settings import Settings, SettingsError
from orchestration.lib.dbt_server import WarmDbt, newest_source_change
from orchestration.lib.dbt_session import session_fingerprint, write_launcher

REPO_ROOT = Path(__file__).resolve().parents[3]


def dbt_project_dir() -> Path:
    return Path(os.environ.get("ANALISA_DBT_PROJECT_DIR", REPO_ROOT / "dbt_project")).resolve()


def dbt_executable() -> str:
    local = Path(sys.executable).parent / "dbt"
    return str(local) if local.exists() else "dbt"


def ensure_manifest(project_dir: Path) -> Path:
    """Parse the project when its manifest is missing or older than its files.

    With DATABASE_URL set, the parse uses the profile a run writes for that database: dbt keeps
    what it parsed (target/partial_parse.msgpack, which each run starts from) only for the
    connection it was parsed with, and parsed with the project's own profile, the first run after
    every new manifest parsed the whole project again (3 s of a build). The embedded server is not
    started only to parse: without DATABASE_URL (or with settings that cannot be read), the
    project's profile."""
    manifest = project_dir / "target" / "manifest.json"
    if manifest.exists() and manifest.stat().st_mtime >= newest_source_change(project_dir):
        return manifest
    try:  # read now, as a run reads it (AnalisaResource)
        url = Settings().database_url
    except SettingsError:  # the run reports it; loading the definitions does not fail on it
        url = None
    with tempfile.TemporaryDirectory(prefix="analisa-dbt-") as folder:
        profiles_dir = project_dir
        if url:
            profile = Path(folder) / "profiles.yml"
            profile.touch(mode=0o600)
            profile.write_text(profiles_yml(normalize_url(url)), encoding="utf-8")
            profiles_dir = Path(folder)
        result = subprocess.run(
            [
                dbt_executable(),
                "parse",
                "--project-dir",
                str(project_dir),
                "--profiles-dir",
                str(profiles_dir),
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
            check=False,
        )
    if result.returncode != 0:
        raise RuntimeError(f"dbt parse failed:\n{result.stdout[-4000:]}\n{result.stderr[-2000:]}")
    return manifest


@cache
def analisa_dbt_project() -> DbtProject:
    project_dir = dbt_project_dir()
    ensure_manifest(project_dir)
    return DbtProject(project_dir=project_dir, profiles_dir=project_dir)


def profiles_yml(url: str, threads: int = 2) -> str:
    """A dbt profile for the database at `url` (host may be a Unix socket directory)."""
    parts = url_parts(url)
    output = {
        "type": "postgres",
        "host": parts["host"],
        "port": int(parts["port"]),
        "user": parts["user"],
        "password": parts["password"],
        "dbname": parts["dbname"],
        "schema": "analytics",
        "threads": threads,
    }
    return yaml.safe_dump({"analisa": {"target": "run", "outputs": {"run": output}}})


@cache
def installed_dbt_version() -> version.Version:
    """The version of the dbt-core installed beside this process (the one dbt_executable runs)."""
    return version.parse(importlib.metadata.version("dbt-core"))


class LocalDbtCli(DbtCliResource):
    """The dbt CLI when it is this environment's own dbt: dagster-dbt would otherwise start it
    once more per step (`dbt --version`, seconds of start-up) only to learn its version, which
    the installed package states; nor does it open a dbt adapter in this process at every step
    (importing dbt here, 1 s, and reading the profile) for the column and row-count metadata it
    offers, which no step of ours fetches."""

    @property
    def _cli_version(self) -> version.Version:
        return installed_dbt_version()

    def _initialize_dbt_core_adapter(self, args):
        return None


# The dbt server of this process (orchestration/lib/dbt_server.py), stopped when it exits.
WARM_DBT = WarmDbt()
atexit.register(WARM_DBT.stop)


def warm_fingerprint() -> str | None:
    """The session fingerprint of a dbt kept warm, or None when dbt cannot be kept warm here
    (dbt not this environment's own, or settings that cannot be read: the cold launcher
    reports them)."""
    if not Path(dbt_executable()).is_absolute():
        return None
    try:
        return session_fingerprint(Settings())
    except SettingsError:
        return None


def prestart_dbt() -> None:
    """Start this process's dbt server now, so that dbt is imported while the steps before the
    first dbt step run (an in-process run calls it when it begins)."""
    fingerprint = warm_fingerprint()
    if fingerprint is not None:
        WARM_DBT.ensure(fingerprint)


@contextlib.contextmanager
def dbt_cli(project: DbtProject, url: str, warm: bool = False) -> Iterator[DbtCliResource]:
    """The dbt CLI for one run against `url`; its profile lives only as long as the run.
    `warm`: the commands run on this process's dbt server, which keeps dbt imported and the
    project parsed between steps and runs (when dbt is this environment's own)."""
    with tempfile.TemporaryDirectory(prefix="analisa-dbt-") as folder:
        profile = Path(folder) / "profiles.yml"
        profile.touch(mode=0o600)
        profile.write_text(profiles_yml(url), encoding="utf-8")
        # dbt runs through a launcher that gives its connections the pseudonym key as a
        # session setting (orchestration/lib/dbt_session.py), never through SQL or this process
        executable = dbt_executable()
        local = Path(executable).is_absolute()  # else whatever `dbt` the PATH finds
        fingerprint = warm_fingerprint() if warm else None
        if fingerprint is not None:
            launcher = WARM_DBT.launcher(Path(folder), executable, fingerprint)
        else:
            launcher = write_launcher(Path(folder), executable)
        resource = LocalDbtCli if local else DbtCliResource
        yield resource(project_dir=project, profiles_dir=folder, dbt_executable=str(launcher))
