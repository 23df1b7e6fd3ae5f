"""Where exports go: ANALISA_EXPORT_ROOT (a folder or URL), else the earlier ANALISA_EXPORT_DIR,
else ANALISA_HOME/exports; how many versions and dbt folders are kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from analisa.core.settings import Settings, SettingsError


@pytest.fixture(autouse=True)
def clean(monkeypatch):
    for name in (
        "ANALISA_EXPORT_ROOT",
        "ANALISA_EXPORT_DIR",
        "ANALISA_EXPORT_KEEP_VERSIONS",
        "ANALISA_DBT_TARGET_KEEP",
        "ANALISA_ENV",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ANALISA_HOME", "/srv/analisa")


def test_export_root_then_dir_then_home(monkeypatch):
    assert Settings().export_location == str(Path("/srv/analisa/exports"))
    monkeypatch.setenv("ANALISA_EXPORT_DIR", "/data/exports")
    assert Settings().export_location == "/data/exports"
    monkeypatch.setenv("ANALISA_EXPORT_ROOT", "s3://bucket/analisa")
    assert Settings().export_location == "s3://bucket/analisa"


def test_keep_defaults_and_bounds(monkeypatch):
    settings = Settings()
    assert (settings.export_keep_versions, settings.dbt_target_keep) == (1, 5)
    monkeypatch.setenv("ANALISA_DBT_TARGET_KEEP", "0")
    with pytest.raises(SettingsError, match="ANALISA_DBT_TARGET_KEEP"):
        Settings()
    monkeypatch.setenv("ANALISA_DBT_TARGET_KEEP", "3")
    monkeypatch.setenv("ANALISA_EXPORT_KEEP_VERSIONS", "-1")
    with pytest.raises(SettingsError, match="ANALISA_EXPORT_KEEP_VERSIONS"):
        Settings()
