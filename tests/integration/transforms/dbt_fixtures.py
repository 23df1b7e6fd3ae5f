"""Running the dbt project from tests: the venv's dbt, this repository's project and profiles,
the test database through the same environment variables production uses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from analisa.core.db import dbt_environment
from analisa.core.settings import Settings
from orchestration.lib.dbt_session import session_environment

DBT_PROJECT_DIR = Path(__file__).resolve().parents[3] / "dbt_project"


def dbt_executable() -> Path:
    return Path(sys.executable).parent / "dbt"


def run_dbt(
    args: list[str], db_url: str, work_dir: Path, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run `dbt <args>` against db_url. target/ and logs/ go to work_dir, so tests running at the
    same time (or a developer's own dbt run) never share compiled files."""
    env = {
        **os.environ,
        **dbt_environment(db_url),
        "ANALISA_DBT_TARGET": "dev",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        # the pseudonym key as a session setting, as analisa's own dbt runs get it
        **session_environment(Settings(), os.environ),
    }
    command = [
        str(dbt_executable()),
        *args,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(work_dir / "target"),
        "--log-path",
        str(work_dir / "logs"),
    ]
    return subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def dbt_output(result: subprocess.CompletedProcess[str]) -> str:
    """The tail of a dbt run's output, for assertion messages."""
    return (result.stdout[-6000:] + "\n" + result.stderr[-2000:]).strip()
