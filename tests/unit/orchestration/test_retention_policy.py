"""Retention settings and policy: nonsense is refused by name, before anything is deleted."""

from datetime import UTC, datetime

import pytest

from analisa.core.settings import Settings, SettingsError
from orchestration.defs.retention.purge import PurgeReport, RetentionPolicy, TablePurge


def test_defaults_are_ninety_and_thirty_days_in_batches_of_ten_thousand():
    policy = RetentionPolicy.from_settings(Settings())
    assert (policy.bronze_days, policy.rejected_days, policy.batch_rows) == (90, 30, 10_000)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("ANALISA_BRONZE_RETENTION_DAYS", "0"),
        ("ANALISA_BRONZE_RETENTION_DAYS", "-5"),
        ("ANALISA_BRONZE_RETENTION_DAYS", "1000000000"),  # would overflow a date
        ("ANALISA_BRONZE_RETENTION_DAYS", "ninety"),
        ("ANALISA_REJECTED_RETENTION_DAYS", "0"),
        ("ANALISA_RETENTION_BATCH_ROWS", "0"),
        ("ANALISA_RETENTION_BATCH_ROWS", "50000000"),
    ],
)
def test_nonsense_settings_are_refused_naming_the_variable(monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        Settings()
    assert caught.value.problems[0][0] == variable
    assert value not in str(caught.value)


def test_a_policy_refuses_what_would_delete_everything():
    with pytest.raises(ValueError, match="at least one day"):
        RetentionPolicy(bronze_days=0)
    with pytest.raises(ValueError, match="at least one row"):
        RetentionPolicy(batch_rows=0)


def test_metadata_names_every_table_with_its_cutoff_and_reason():
    cutoff = datetime(2026, 8, 24, tzinfo=UTC)
    report = PurgeReport(
        "p1",
        False,
        (
            TablePurge("bronze.raw_records", 90, cutoff, "period", 12),
            TablePurge("bronze.rejected_envelopes", 30, None, "none yet", 0),
        ),
    )
    assert report.rows == 12
    assert report.metadata() == {
        "purge_id": "p1",
        "dry_run": False,
        "bronze.raw_records rows": 12,
        "bronze.raw_records cutoff": "2026-08-24T00:00:00+00:00",
        "bronze.raw_records why": "period",
        "bronze.rejected_envelopes rows": 0,
        "bronze.rejected_envelopes cutoff": "none",
        "bronze.rejected_envelopes why": "none yet",
    }
