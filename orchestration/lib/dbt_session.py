"""The database session settings a dbt run needs but must never see in its SQL: the pseudonym key
(and the memory its sorts may use, ANALISA_DBT_WORK_MEM, and no JIT compilation).

Silver calls `ops.pseudonym()` (migration 011), which reads `analisa.pseudonym_key` from the
session. libpq takes session settings from the PGOPTIONS environment variable when it connects,
so the key reaches the database as a startup option of dbt's own connections: it is in no
statement (pg_stat_activity, the server log, dbt's logs and compiled SQL), no profile, no dbt
variable (those are written to target/), no table, and not in this process's environment. A
small launcher sets PGOPTIONS in the dbt process it then becomes (`exec`); it reads the key
from the settings when it runs, so nothing written to disk holds it.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import sys
from collections.abc import Mapping
from pathlib import Path

from analisa.core.settings import Settings, SettingsError

PSEUDONYM_KEY_SETTING = "analisa.pseudonym_key"


# server settings a dbt session may be given besides the project's own (custom) ones
SERVER_SETTINGS = frozenset({"work_mem", "jit"})


def libpq_options(settings: Mapping[str, str]) -> str:
    """`-c name=value` for each setting, in PGOPTIONS syntax: whitespace and backslashes in a
    value are escaped with a backslash (libpq splits the options on unescaped whitespace)."""
    parts = []
    for name, value in settings.items():
        custom = re.fullmatch(r"[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*", name)
        if not custom and name not in SERVER_SETTINGS:
            raise ValueError(f"not a custom setting name: {name!r}")
        escaped = re.sub(r"([\\\s])", r"\\\1", value)
        parts.append(f"-c {name}={escaped}")
    return " ".join(parts)


def session_environment(settings: Settings, base: Mapping[str, str]) -> dict[str, str]:
    """The PGOPTIONS a dbt process needs (keeping options `base` already has)."""
    options = libpq_options(
        {
            PSEUDONYM_KEY_SETTING: settings.pseudonym_key.get_secret_value(),
            "work_mem": settings.dbt_work_mem,
            # A model's query runs once over its whole input: compiling its expressions (JIT)
            # costs more than it saves here (quarantine_records spent 2.4 of its 3.1 CPU seconds
            # compiling its checks once per bronze view).
            "jit": "off",
        }
    )
    existing = base.get("PGOPTIONS", "").strip()
    return {"PGOPTIONS": f"{existing} {options}".strip()}


def session_command(executable: str) -> list[str]:
    """The command that runs `executable` (and the arguments that follow) with the session
    settings: this module reads the key from the settings when it runs, then becomes it."""
    return [sys.executable, "-m", "orchestration.lib.dbt_session", executable]


def session_fingerprint(settings: Settings, base: Mapping[str, str] | None = None) -> str:
    """A digest of the session settings dbt's connections get (with the options `base`, by
    default this process's environment, already has): a dbt kept running for them
    (orchestration/lib/dbt_server.py) is started again when they change."""
    options = session_environment(settings, os.environ if base is None else base)["PGOPTIONS"]
    return hashlib.sha256(f"{sys.executable}\x00{options}".encode()).hexdigest()


def write_launcher(folder: Path, dbt_executable: str) -> Path:
    """An executable in `folder` (private to the run) that runs `dbt_executable` with the
    session settings. It holds no secret: the key is read from the settings when it runs."""
    path = folder / "dbt"
    path.write_text(
        f'#!/bin/sh\nexec {shlex.join(session_command(dbt_executable))} "$@"\n',
        encoding="utf-8",
    )
    path.chmod(0o700)
    return path


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m orchestration.lib.dbt_session DBT [ARGS...]", file=sys.stderr)
        return 2
    try:
        settings = Settings()
    except SettingsError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    os.environ.update(session_environment(settings, os.environ))
    os.execvp(argv[0], argv)  # replaces this process: the environment is dbt's alone


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
