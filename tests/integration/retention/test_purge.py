"""Retention on a real database and a real dbt build: bronze goes only when it is past its period
AND an accepted silver build had read it; silver and gold stay exactly as they were; a rebuild
from bronze after a purge is refused; every purge is recorded."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import dagster as dg
import psycopg
import pytest
from typer.testing import CliRunner

from analisa.cli import app
from analisa.core.settings import get_settings
from connectors.bronze_writer import write_records
from connectors.records import RawRecord
from expectations.history import record as accept_build
from orchestration.defs.retention.assets import bronze_retention
from orchestration.defs.retention.purge import (
    RetentionPolicy,
    purge,
    purged_history,
    raw_records_cutoff,
    silver_accepted_through,
)
from orchestration.lib.resources import AnalisaResource
from tests.integration.transforms.dbt_fixtures import dbt_output, run_dbt

IG = "17841400000000088"


def _profile(day: datetime, followers: int, round_id: str) -> RawRecord:
    body = {
        "user_id": IG,
        "username": "rita.run",
        "followers_count": followers,
        "follows_count": 50,
        "media_count": 3,
        "id": "8412397500000088",
    }
    return RawRecord("instagram", "user", IG, round_id, day, 200, json.dumps(body))


def _media(day: datetime, posts: list[str], round_id: str) -> RawRecord:
    items = [
        {
            "id": post,
            "caption": f"Post {post[-1]} #corrida",
            "media_type": "IMAGE",
            "media_product_type": "FEED",
            "timestamp": "2026-04-01T10:00:00+0000",
            "like_count": 100 + i,
            "comments_count": i,
        }
        for i, post in enumerate(posts)
    ]
    return RawRecord("instagram", "media", IG, round_id, day, 200, json.dumps({"data": items}))


def _throttled(day: datetime, round_id: str) -> RawRecord:
    body = {
        "error": {
            "message": "Application request limit reached",
            "type": "OAuthException",
            "code": 4,
        }
    }
    return RawRecord("instagram", "media", IG, round_id, day, 400, json.dumps(body))


def _write(url: str, records: dict[str, tuple[RawRecord, datetime | None]]) -> None:
    """Write each record, then give it the ingestion time stated (None: now, as written)."""
    with psycopg.connect(url) as conn, conn.transaction():
        for name, (record, ingested_at) in records.items():
            assert write_records(conn, [record]) == 1, name
            if ingested_at is not None:
                conn.execute(
                    "update bronze.raw_records set ingested_at = %s where round_id = %s",
                    (ingested_at, record.round_id),
                )


def _remaining(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        return {r[0] for r in conn.execute("select round_id from bronze.raw_records")}


def _layers(url: str) -> dict[str, list[str]]:
    """Every row of every silver and gold table, as text, sorted: the values, not only counts."""
    with psycopg.connect(url) as conn:
        tables = conn.execute(
            "select table_schema || '.' || table_name from information_schema.tables"
            " where table_schema in ('silver', 'gold') and table_type = 'BASE TABLE' order by 1"
        ).fetchall()
        return {
            t: sorted(r[0] for r in conn.execute(f"select x::text from {t} x"))  # catalog names
            for (t,) in tables
        }


def _purges(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select table_name, period_days, cutoff, rows_deleted, dry_run, finished_at is not null"
            " from ops.retention_purges order by started_at, table_name"
        ).fetchall()


@pytest.mark.timeout(600)
def test_purge_takes_only_what_is_past_its_period_and_already_in_silver(db_url, tmp_path):
    t0 = datetime.now(UTC).replace(microsecond=0)
    _write(
        db_url,
        {
            # past the 90-day period
            "P1": (
                _profile(datetime(2026, 5, 1, tzinfo=UTC), 1000, "p1"),
                t0 - timedelta(days=200),
            ),
            "M1": (
                _media(datetime(2026, 5, 1, tzinfo=UTC), ["1790088000001", "1790088000002"], "m1"),
                t0 - timedelta(days=200),
            ),
            "E1": (_throttled(datetime(2026, 5, 2, tzinfo=UTC), "e1"), t0 - timedelta(days=200)),
            "P2": (
                _profile(datetime(2026, 8, 1, tzinfo=UTC), 1500, "p2"),
                t0 - timedelta(days=100),
            ),
            "M2": (
                _media(
                    datetime(2026, 8, 1, tzinfo=UTC),
                    ["1790088000001", "1790088000002", "1790088000003"],
                    "m2",
                ),
                t0 - timedelta(days=100),
            ),
            # within it
            "P3": (
                _profile(datetime(2026, 11, 1, tzinfo=UTC), 1800, "p3"),
                t0 - timedelta(days=10),
            ),
            # within the staging lookback of the build below
            "P4": (
                _profile(datetime(2026, 11, 10, tzinfo=UTC), 1900, "p4"),
                t0 - timedelta(minutes=30),
            ),
        },
    )
    with psycopg.connect(db_url) as conn:
        conn.execute(
            "insert into bronze.rejected_envelopes (source_file, line_no, reason, raw_line,"
            " raw_hash, rejected_at) values ('old.jsonl', 1, 'bad JSON', '{', 'h1', %s),"
            " ('new.jsonl', 1, 'bad JSON', '{', 'h2', %s)",
            (t0 - timedelta(days=40), t0 - timedelta(days=10)),
        )
    policy = RetentionPolicy(bronze_days=90, rejected_days=30, batch_rows=2)

    # no silver build accepted yet: raw bronze stays whatever its age; rejected lines go by age
    dry = purge(db_url, policy, dry_run=True, clock=lambda: t0)
    assert [(t.table, t.cutoff, t.rows) for t in dry.tables] == [
        ("bronze.raw_records", None, 0),
        ("bronze.rejected_envelopes", t0 - timedelta(days=30), 1),
    ]
    assert dry.tables[0].reason == "no silver build accepted by the silver gate yet"

    before_build = datetime.now(UTC)
    built = run_dbt(["build"], db_url, tmp_path / "first")
    assert built.returncode == 0, dbt_output(built)
    with psycopg.connect(db_url) as conn, conn.transaction():
        rows = conn.execute("select count(*) from silver.int_account_snapshots").fetchone()[0]
        assert rows == 4  # P1..P4
        accept_build(conn, "silver", {"silver.int_account_snapshots": rows})
    layers = _layers(db_url)
    assert len(layers["silver.stg_instagram__media"]) == 5  # M1's two posts, M2's three

    # a dry run counts, deletes nothing, and does not stop an incremental build
    dry = purge(db_url, policy, dry_run=True, clock=lambda: t0)
    assert [t.rows for t in dry.tables] == [5, 1]
    assert _remaining(db_url) == {"p1", "m1", "e1", "p2", "m2", "p3", "p4"}

    report = purge(db_url, policy, clock=lambda: t0)
    raw, rejected = report.tables
    assert (raw.table, raw.cutoff, raw.rows) == ("bronze.raw_records", t0 - timedelta(days=90), 5)
    assert raw.reason == "period: ingested more than 90 days ago"
    assert before_build < raw.silver_through < datetime.now(UTC)
    assert (rejected.cutoff, rejected.rows) == (t0 - timedelta(days=30), 1)
    assert _remaining(db_url) == {"p3", "p4"}
    with psycopg.connect(db_url) as conn:
        assert conn.execute("select source_file from bronze.rejected_envelopes").fetchall() == [
            ("new.jsonl",)
        ]
    assert _purges(db_url)[-2:] == [
        ("bronze.raw_records", 90, t0 - timedelta(days=90), 5, False, True),
        ("bronze.rejected_envelopes", 30, t0 - timedelta(days=30), 1, False, True),
    ]

    # silver and gold are untouched, and an incremental build after the purge changes nothing
    assert _layers(db_url) == layers
    again = run_dbt(["build"], db_url, tmp_path / "second")
    assert again.returncode == 0, dbt_output(again)
    assert _layers(db_url) == layers

    # rebuilding from the purged bronze would drop the history: refused, and nothing changes
    refused = run_dbt(
        ["build", "--full-refresh", "--select", "tag:silver"], db_url, tmp_path / "third"
    )
    assert refused.returncode != 0
    assert "Refusing to rebuild" in refused.stdout
    assert "retention purged 5 bronze records" in refused.stdout
    assert "retention_allow_rebuild" in refused.stdout
    assert _layers(db_url) == layers

    # a record ingested after the accepted build started has not been read by silver: months
    # later, it is past its period but stays; the silver bound now decides the cutoff
    _write(db_url, {"P5": (_profile(datetime(2026, 6, 1, tzinfo=UTC), 1200, "p5"), None)})
    later = t0 + timedelta(days=100)
    report = purge(db_url, policy, clock=lambda: later)
    raw, rejected = report.tables
    assert raw.reason.startswith("silver: the last accepted silver build started")
    assert raw.cutoff == raw.silver_through - timedelta(hours=1)
    assert before_build < raw.silver_through < t0 + timedelta(hours=1)
    assert raw.rows == 1  # P3; P4 is inside the lookback, P5 came after the build
    assert _remaining(db_url) == {"p4", "p5"}
    assert rejected.rows == 1


def test_dagster_asset_and_cli_record_each_purge(db_url, tmp_path, monkeypatch):
    """The scheduled job's asset and `analisa retention purge` run the same purge, recorded in
    ops.retention_purges and in the materialization's metadata."""
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("ANALISA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    monkeypatch.setenv("ANALISA_REJECTED_RETENTION_DAYS", "7")
    get_settings.cache_clear()
    now = datetime.now(UTC)
    _write(
        db_url,
        {"P1": (_profile(datetime(2026, 5, 1, tzinfo=UTC), 1000, "p1"), now - timedelta(days=400))},
    )
    with psycopg.connect(db_url) as conn:
        conn.execute(
            "insert into bronze.rejected_envelopes (source_file, line_no, reason, raw_line,"
            " raw_hash, rejected_at) values ('a.jsonl', 1, 'bad JSON', '{', 'h1', %s),"
            " ('a.jsonl', 2, 'bad JSON', '[', 'h2', %s), ('a.jsonl', 3, 'bad JSON', '(', 'h3', %s)",
            (now - timedelta(days=8), now - timedelta(days=9), now - timedelta(days=1)),
        )

    result = CliRunner().invoke(app, ["retention", "purge", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "would delete" in result.output and "nothing deleted" in result.output
    with psycopg.connect(db_url) as conn:
        assert conn.execute("select count(*) from bronze.rejected_envelopes").fetchone()[0] == 3

    run = dg.materialize(
        [bronze_retention],
        resources={"analisa": AnalisaResource()},
        run_config={"ops": {"ops__bronze_retention": {"config": {"dry_run": False}}}},
    )
    assert run.success
    (event,) = run.get_asset_materialization_events()
    meta = {k: v.value for k, v in event.materialization.metadata.items()}
    assert meta["bronze.rejected_envelopes rows"] == 2
    assert meta["bronze.raw_records rows"] == 0  # no accepted silver build: raw bronze stays
    assert meta["bronze.raw_records cutoff"] == "none"
    assert meta["dry_run"] is False
    assert _remaining(db_url) == {"p1"}

    recorded = _purges(db_url)
    assert [(r[0], r[3], r[4]) for r in recorded] == [
        ("bronze.raw_records", 0, True),
        ("bronze.rejected_envelopes", 2, True),
        ("bronze.raw_records", 0, False),
        ("bronze.rejected_envelopes", 2, False),
    ]
    with psycopg.connect(db_url) as conn:
        run_ids = {
            r[0] for r in conn.execute("select run_id from ops.retention_purges where not dry_run")
        }
    assert run_ids == {run.run_id}
    get_settings.cache_clear()


def test_pipeline_full_refresh_after_a_purge_is_refused_before_anything_runs(
    db_url, tmp_path, monkeypatch
):
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("ANALISA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    get_settings.cache_clear()
    cutoff = datetime(2026, 8, 24, 3, 30, tzinfo=UTC)
    _write(db_url, {"P1": (_profile(datetime(2026, 11, 1, tzinfo=UTC), 1000, "p1"), None)})
    with psycopg.connect(db_url) as conn:
        # a dry run and a purge that deleted nothing do not stop a rebuild ...
        conn.execute(
            "insert into ops.retention_purges (purge_id, table_name, period_days, cutoff,"
            " rows_deleted, dry_run, finished_at) values"
            " ('a', 'bronze.raw_records', 90, %s, 12, true, now()),"
            " ('b', 'bronze.raw_records', 90, %s, 0, false, now())",
            (cutoff, cutoff),
        )
        assert purged_history(conn) is None
        # ... one that deleted rows does
        conn.execute(
            "insert into ops.retention_purges (purge_id, table_name, period_days, cutoff,"
            " rows_deleted, dry_run, finished_at) values"
            " ('c', 'bronze.raw_records', 90, %s, 7, false, now())",
            (cutoff,),
        )
    result = CliRunner().invoke(app, ["pipeline", "--full-refresh"])
    assert result.exit_code == 1
    text = " ".join(result.output.split())
    assert "Refusing a full refresh: retention purged 7 bronze records" in text
    assert "2026-08-24T03:30:00+00:00" in text
    with psycopg.connect(db_url) as conn:
        # nothing ran: no silver schema was built
        assert conn.execute("select to_regclass('silver.int_posts')").fetchone()[0] is None
    get_settings.cache_clear()


def test_the_silver_bound_is_the_last_build_the_gate_accepted(db_url):
    now = datetime.now(UTC).replace(microsecond=0)
    with psycopg.connect(db_url) as conn:
        assert silver_accepted_through(conn) is None
        conn.execute(
            "insert into ops.silver_builds (invocation_id, started_at) values"
            " ('accepted', %s), ('failed', %s), ('running', %s)",
            (now - timedelta(hours=5), now - timedelta(hours=3), now - timedelta(minutes=1)),
        )
        # the gate accepted the first build; the second failed its gate; then an erasure
        # lowered the baselines, which accepts no build
        conn.execute(
            "insert into ops.gate_row_counts (layer, table_name, row_count, run_id, recorded_at)"
            " values ('silver', 'int_posts', 10, 'run-1', %s), ('gold', 'dim_influencers', 3,"
            " 'run-2', %s), ('silver', 'int_posts', 8, 'erasure', %s)",
            (now - timedelta(hours=4), now - timedelta(hours=2), now - timedelta(minutes=30)),
        )
        assert silver_accepted_through(conn) == now - timedelta(hours=5)
        cutoff, why, start = raw_records_cutoff(conn, RetentionPolicy(bronze_days=1), now)
        assert (cutoff, start) == (now - timedelta(days=1), now - timedelta(hours=5))
        assert why == "period: ingested more than 1 days ago"
        # ten days on, with no new accepted build: the build bounds the cutoff, not the period
        later = now + timedelta(days=10)
        cutoff, why, _ = raw_records_cutoff(conn, RetentionPolicy(bronze_days=1), later)
        assert cutoff == now - timedelta(hours=6)  # the accepted build's start, minus the lookback
        assert why.startswith("silver: the last accepted silver build started")
