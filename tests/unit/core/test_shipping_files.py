"""The shipping files stay usable: compose and CI parse and name what they must, the README starts
with the set-up commands, and no file carries a path of the machine it was written on."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]

APP_SERVICES = ("dagster-webserver", "dagster-daemon", "api")
INFRA_SERVICES = ("postgres", "redis", "rabbitmq")

# Files and folders that ship with the repository and must read the same on any machine.
SCANNED = (
    "README.md",
    "docs",
    "Makefile",
    ".ci/run",
    "docker-compose.yml",
    "pyproject.toml",
    "Dockerfile",
    ".dockerignore",
    ".env.example",
    "dagster.yaml.example",
    ".github/workflows/ci.yml",
)
# built from parts so this file does not itself name the paths it looks for
MACHINE_PATHS = tuple(f"/{name}/" for name in ("work", "root"))


def _yaml(relative: str) -> dict:
    return yaml.safe_load((ROOT / relative).read_text(encoding="utf-8"))


def test_compose_has_every_service_and_app_services_have_an_image():
    services = _yaml("docker-compose.yml")["services"]
    for name in INFRA_SERVICES + APP_SERVICES:
        assert name in services, f"docker-compose.yml lacks service {name!r}"
    for name in APP_SERVICES:
        service = services[name]
        assert service.get("image") or service.get("build"), f"{name} has no image or build"
        assert service.get("command"), f"{name} has no command"
    for name in INFRA_SERVICES + APP_SERVICES:
        assert services[name].get("healthcheck"), f"{name} has no healthcheck"


def test_compose_app_services_reach_the_real_services():
    services = _yaml("docker-compose.yml")["services"]
    for name in APP_SERVICES:
        env = services[name]["environment"]
        for key in ("DATABASE_URL", "REDIS_URL", "AMQP_URL", "DAGSTER_HOME"):
            assert env.get(key), f"{name} lacks {key}"


def test_dagster_instance_example_stores_in_postgres_through_psycopg2():
    config = _yaml("dagster.yaml.example")
    postgres = config["storage"]["postgres"]["postgres_db"]
    # SQLAlchemy 2.1 maps a bare postgresql:// to psycopg 3, which dagster-postgres cannot use.
    assert postgres["scheme"] == "postgresql+psycopg2"


def test_workflow_runs_tests_against_services_and_lints():
    workflow = _yaml(".github/workflows/ci.yml")
    # YAML 1.1 reads the bare key `on` as True.
    triggers = workflow.get("on", workflow.get(True))
    assert {"push", "pull_request"} <= set(triggers)
    test_job = workflow["jobs"]["test"]
    assert set(INFRA_SERVICES) <= set(test_job["services"])
    for service in test_job["services"].values():
        assert "--health-cmd" in service.get("options", "")
    assert str(test_job["env"]["ANALISA_REQUIRE_SERVICES"]) == "1"
    for key in ("DATABASE_URL", "REDIS_URL", "AMQP_URL"):
        assert test_job["env"].get(key)
    assert any("make test" in step.get("run", "") for step in test_job["steps"])
    lint_steps = workflow["jobs"]["lint"]["steps"]
    assert any("make lint" in step.get("run", "") for step in lint_steps)


def test_every_install_path_uses_the_pinned_constraints():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "pip install -c constraints.txt -e '.[dev]'" in makefile
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^COPY .*\bconstraints\.txt\b", dockerfile, re.MULTILINE)
    assert "pip install -c constraints.txt -r" in dockerfile
    ci_run = (ROOT / ".ci/run").read_text(encoding="utf-8")
    # the README's test command runs last and is exec'd, so its exit code is the script's
    assert ci_run.rstrip().splitlines()[-1] == "exec make test"
    assert "make test" in (ROOT / "README.md").read_text(encoding="utf-8").split("```")[1]
    workflow = _yaml(".github/workflows/ci.yml")
    for job in ("test", "lint"):
        setup = next(
            s for s in workflow["jobs"][job]["steps"] if "setup-python" in s.get("uses", "")
        )
        assert "constraints.txt" in setup["with"]["cache-dependency-path"]


def test_readme_starts_with_the_two_setup_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first_block = re.search(r"```[^\n]*\n(.*?)```", readme, re.DOTALL)
    assert first_block, "README.md has no code block"
    assert "make demo" in first_block.group(1)
    assert "make test" in first_block.group(1)


def _shipped_files() -> list[Path]:
    files = []
    for relative in SCANNED:
        path = ROOT / relative
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.is_file())
        elif path.exists():
            files.append(path)
    return files


@pytest.mark.parametrize("path", _shipped_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_machine_paths_in_shipped_files(path: Path):
    text = path.read_text(encoding="utf-8", errors="replace")
    for marker in (*MACHINE_PATHS, f"{ROOT}/"):
        assert marker not in text, f"{path.relative_to(ROOT)} contains the machine path {marker!r}"
