"""The pseudonym key reaches dbt's database sessions as a libpq option, never as text of ours."""

import json
import os
import stat

import pytest

from analisa.core.settings import Settings, SettingsError
from orchestration.defs.dbt.resources import analisa_dbt_project
from orchestration.lib.dbt_session import (
    libpq_options,
    session_environment,
    session_fingerprint,
    write_launcher,
)


def test_values_are_escaped_as_libpq_splits_options_on_whitespace():
    assert libpq_options({"analisa.pseudonym_key": "plain"}) == "-c analisa.pseudonym_key=plain"
    assert (
        libpq_options({"analisa.pseudonym_key": "a b\\c\td"})
        == "-c analisa.pseudonym_key=a\\ b\\\\c\\\td"
    )


@pytest.mark.parametrize("name", ["search_path", "analisa.key=x -c y.z", "Analisa.Key", ""])
def test_only_custom_setting_names_are_accepted(name):
    with pytest.raises(ValueError, match="not a custom setting name"):
        libpq_options({name: "value"})


def test_existing_options_are_kept():
    settings = Settings(ANALISA_PSEUDONYM_KEY="k 1")
    env = session_environment(settings, {"PGOPTIONS": "-c statement_timeout=5000"})
    assert env == {
        "PGOPTIONS": "-c statement_timeout=5000 -c analisa.pseudonym_key=k\\ 1 -c work_mem=256MB -c jit=off"
    }
    assert session_environment(settings, {}) == {
        "PGOPTIONS": "-c analisa.pseudonym_key=k\\ 1 -c work_mem=256MB -c jit=off"
    }


def test_the_sort_memory_of_dbt_sessions_is_a_checked_setting():
    settings = Settings(ANALISA_PSEUDONYM_KEY="k", ANALISA_DBT_WORK_MEM="1GB")
    assert " -c work_mem=1GB " in session_environment(settings, {})["PGOPTIONS"]
    # a value is one size: nothing else can ride along into the session's options
    with pytest.raises(SettingsError, match="ANALISA_DBT_WORK_MEM"):
        Settings(ANALISA_DBT_WORK_MEM="64MB -c search_path=x")


def test_the_launcher_holds_no_secret_and_is_private(tmp_path, monkeypatch):
    monkeypatch.setenv("ANALISA_PSEUDONYM_KEY", "launcher-test-key-7f3a")
    launcher = write_launcher(tmp_path, "/opt/dbt env/bin/dbt")
    text = launcher.read_text()
    assert "launcher-test-key-7f3a" not in text
    assert "'/opt/dbt env/bin/dbt'" in text  # quoted for the shell
    assert stat.S_IMODE(launcher.stat().st_mode) == 0o700
    assert "PGOPTIONS" not in os.environ


def test_every_silver_model_reading_bronze_is_incremental_and_keeps_its_rows():
    """Retention deletes bronze that silver has read: a model rebuilt from bronze on every run
    (a table) would lose those rows at its next build."""
    manifest = json.loads(analisa_dbt_project().manifest_path.read_text())
    readers = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model":
            continue
        sources = [d for d in node["depends_on"]["nodes"] if d.startswith("source.analisa.bronze.")]
        # quarantine_records finds the bronze sources at run time, so the manifest has none
        if sources or "source('bronze'" in node["raw_code"]:
            readers[node["name"]] = node
    assert {"stg_instagram__account_snapshots", "quarantine_records", "stg_tiktok__videos"} <= set(
        readers
    )
    # a model's body may come from a project macro (e.g. the Instagram insights models)
    macros = {
        unique_id: macro["macro_sql"]
        for unique_id, macro in manifest["macros"].items()
        if macro["package_name"] == "analisa"
    }
    for name, node in readers.items():
        assert node["config"]["materialized"] == "incremental", name
        bodies = [node["raw_code"]] + [
            macros[m] for m in node["depends_on"]["macros"] if m in macros
        ]
        assert any("bronze_increment()" in body for body in bodies), name
        assert node["config"]["full_refresh"] is None, name  # the refusal is the macro's


def test_the_fingerprint_of_the_session_follows_every_option_dbt_gets():
    """A dbt kept warm is started again when what its connections would get changes."""
    settings = Settings(ANALISA_PSEUDONYM_KEY="k 1")
    same = session_fingerprint(settings, {})
    assert session_fingerprint(Settings(ANALISA_PSEUDONYM_KEY="k 1"), {}) == same
    assert session_fingerprint(Settings(ANALISA_PSEUDONYM_KEY="k 2"), {}) != same
    assert (
        session_fingerprint(Settings(ANALISA_PSEUDONYM_KEY="k 1", ANALISA_DBT_WORK_MEM="1GB"), {})
        != same
    )
    assert session_fingerprint(settings, {"PGOPTIONS": "-c statement_timeout=5000"}) != same
    assert "k 1" not in same and "k\\ 1" not in same
