"""dbt invocation folders under target/ are removed after each invocation, the newest few per
op kept; dbt's own files there are never touched but for the parse state an invocation leaves
for the next one. The manifest is parsed for the database the runs use."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from dagster_dbt import DbtCliResource

from orchestration.defs.dbt.resources import (
    LocalDbtCli,
    dbt_executable,
    dbt_project_dir,
    ensure_manifest,
    installed_dbt_version,
    profiles_yml,
)
from orchestration.defs.dbt.target_cleanup import clean_target_runs, keep_partial_parse, target_dir


def make(folder: Path, mtime: float) -> Path:
    folder.mkdir()
    (folder / "run_results.json").write_text("{}")
    os.utime(folder, (mtime, mtime))
    return folder


def test_keeps_the_newest_folders_of_each_op_and_dbts_own_files(tmp_path):
    target = tmp_path / "target"
    target.mkdir()
    for name in ("manifest.json", "partial_parse.msgpack", "semantic_manifest.json"):
        (target / name).write_text("x")
    compiled = make(target / "compiled", 1)  # a plain `dbt` run's folder: not ours to remove
    silver = [make(target / f"dbt_silver-1a2b3c{n}-abcdef{n}", 100 + n) for n in range(8)]
    gold = [make(target / f"dbt_gold-1a2b3c{n}-0bcdef{n}", 100 + n) for n in range(3)]
    lone = make(target / "9f8e7d6", 50)  # an invocation without a Dagster context

    removed = clean_target_runs(target, keep=5)

    assert sorted(removed) == sorted(silver[:3])
    assert sorted(p for p in target.iterdir() if p.is_dir()) == sorted(
        [compiled, lone, *silver[3:], *gold]
    )
    assert {p.name for p in target.iterdir() if p.is_file()} == {
        "manifest.json",
        "partial_parse.msgpack",
        "semantic_manifest.json",
    }
    # run again: nothing more to remove
    assert clean_target_runs(target, keep=5) == []
    assert sorted(clean_target_runs(target, keep=1)) == sorted([*silver[3:7], *gold[:2]])
    assert sorted(p.name for p in target.iterdir() if p.is_dir()) == sorted(
        [compiled.name, lone.name, silver[7].name, gold[2].name]
    )


def test_names_dagster_dbt_gives_are_recognised(tmp_path, monkeypatch):
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "t"))
    resource = DbtCliResource(project_dir=str(dbt_project_dir()), dbt_executable=dbt_executable())
    path = resource._get_unique_target_path(context=None)
    assert path.parent == tmp_path / "t"
    assert target_dir(tmp_path) == tmp_path / "t"
    (tmp_path / "t").mkdir()
    make(path, 1)
    make(tmp_path / "t" / "1234567", 2)
    assert clean_target_runs(tmp_path / "t", keep=1) == [path]


def test_target_dir_defaults_to_the_projects_target(tmp_path, monkeypatch):
    monkeypatch.delenv("DBT_TARGET_PATH", raising=False)
    assert target_dir(tmp_path) == tmp_path / "target"
    assert clean_target_runs(tmp_path / "missing", keep=5) == []
    with pytest.raises(ValueError):
        clean_target_runs(tmp_path, keep=0)


def test_an_invocations_parse_state_becomes_the_next_ones(tmp_path):
    target = tmp_path / "target"
    target.mkdir()
    (target / "partial_parse.msgpack").write_bytes(b"made by dbt parse")
    run = make(target / "dbt_silver-1a2b3c4-abcdef0", 1)
    # an invocation that failed before parsing leaves no state: the old one stays
    assert keep_partial_parse(run, target) is False
    assert (target / "partial_parse.msgpack").read_bytes() == b"made by dbt parse"
    (run / "partial_parse.msgpack").write_bytes(b"made by the run")
    assert keep_partial_parse(run, target) is True
    assert (target / "partial_parse.msgpack").read_bytes() == b"made by the run"
    assert (run / "partial_parse.msgpack").read_bytes() == b"made by the run"
    assert sorted(p.name for p in target.iterdir()) == [run.name, "partial_parse.msgpack"]
    assert keep_partial_parse(run, tmp_path / "missing") is False


def test_the_local_dbts_version_is_known_without_starting_it():
    resource = LocalDbtCli(project_dir=str(dbt_project_dir()), dbt_executable=dbt_executable())
    printed = subprocess.run(
        [dbt_executable(), "--version"], capture_output=True, text=True, check=True
    ).stdout
    assert resource._cli_version == installed_dbt_version()
    assert f"installed: {installed_dbt_version()}" in printed


def _copy_project(tmp_path: Path) -> Path:
    project = tmp_path / "dbt_project"
    shutil.copytree(
        dbt_project_dir(), project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages")
    )
    return project


def _parse_says(project: Path, url: str, tmp_path: Path) -> str:
    """What a run's `dbt parse` against `url` (its own profile, as a run writes it) prints."""
    profiles = tmp_path / "run-profile"
    profiles.mkdir(exist_ok=True)
    (profiles / "profiles.yml").write_text(profiles_yml(url), encoding="utf-8")
    return subprocess.run(
        [dbt_executable(), "parse", "--project-dir", str(project), "--profiles-dir", str(profiles)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
    ).stdout


def test_the_manifest_is_parsed_for_the_database_runs_use(tmp_path, monkeypatch):
    """dbt keeps a parse state for the connection it parsed with only: made with the project's
    own profile, the first run against DATABASE_URL would parse the whole project again."""
    url = "postgresql://analisa@127.0.0.1:5432/analisa_parse_check"
    project = _copy_project(tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    ensure_manifest(project)
    assert (project / "target" / "manifest.json").exists()
    assert "profile has changed" not in _parse_says(project, url, tmp_path)

    # without DATABASE_URL the project's profile parses: a run elsewhere starts over
    other = _copy_project(tmp_path / "other")
    monkeypatch.delenv("DATABASE_URL")
    ensure_manifest(other)
    assert "Unable to do partial parsing because profile has changed" in _parse_says(
        other, url, tmp_path
    )

    # settings that cannot be read do not stop the parse (the run reports them)
    broken = _copy_project(tmp_path / "broken")
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("ANALISA_DBT_WORK_MEM", "a lot")
    ensure_manifest(broken)
    assert (broken / "target" / "manifest.json").exists()
