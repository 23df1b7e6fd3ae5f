"""Parquet exports on a real PostgreSQL: declared types whatever the SQL types, read back by
pyarrow, pandas and DuckDB; partitions; row counts; versions switched whole; fsspec roots."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import fsspec
import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from psycopg import sql

from exports import parquet
from exports.parquet import export_gold, purge_old_versions, read_manifest, read_table
from exports.schema import TABLES, ExportSchemaError, table

# SQL types chosen to differ from the declared kinds: numeric of two precisions for rates,
# integer and numeric for counts; the export must not care.
SQL_TYPES = {
    "string": "text",
    "int64": "numeric",
    "float64": "numeric(7,4)",
    "bool": "boolean",
    "timestamp": "timestamptz",
    "date": "date",
}


def create_tables(url: str, sql_types: dict[str, str] = SQL_TYPES) -> None:
    """Every exported relation, empty, with the declared columns."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("create schema if not exists gold")
        conn.execute("create schema if not exists silver")
        for t in TABLES:
            schema, name = t.relation.split(".")
            columns = sql.SQL(", ").join(
                sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(sql_types[k]))
                for n, k in t.columns
            )
            conn.execute(
                sql.SQL("create table {} ({})").format(sql.Identifier(schema, name), columns)
            )


def insert(conn: psycopg.Connection, relation: str, rows: list[dict]) -> None:
    schema, name = relation.split(".")
    for row in rows:
        conn.execute(
            sql.SQL("insert into {} ({}) values ({})").format(
                sql.Identifier(schema, name),
                sql.SQL(", ").join(sql.Identifier(c) for c in row),
                sql.SQL(", ").join(sql.Placeholder() for _ in row),
            ),
            list(row.values()),
        )


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 10, day, hour, tzinfo=UTC)


POSTS = [
    # instagram, captured on two days; likes hidden (null) on the second post
    {
        "platform": "instagram",
        "account_id": "ig-1",
        "post_id": "p1",
        "likes": 120,
        "comments": 8,
        "engagement_rate_followers": "1.2345",
        "likes_hidden": False,
        "posted_at": at(1, 8),
        "captured_at": at(1, 23),
    },
    {
        "platform": "instagram",
        "account_id": "ig-1",
        "post_id": "p2",
        "likes": None,
        "comments": 3,
        "engagement_rate_followers": "0.0300",
        "likes_hidden": True,
        "posted_at": at(1, 9),
        "captured_at": at(2, 1),
    },
    {
        "platform": "tiktok",
        "account_id": "tt-1",
        "post_id": "v1",
        "likes": 50,
        "comments": 0,
        "engagement_rate_followers": None,
        "likes_hidden": False,
        "posted_at": at(2),
        "captured_at": at(2, 12),
    },
]


@pytest.fixture
def gold_db(db_url):
    create_tables(db_url)
    with psycopg.connect(db_url, autocommit=True) as conn:
        insert(conn, "gold.fct_post_engagement", POSTS)
        insert(conn, "gold.dim_brands", [{"brand_name": "Acme", "followers_min": 1000}])
    return db_url


def test_export_is_read_with_the_declared_types_by_pyarrow_pandas_and_duckdb(gold_db, tmp_path):
    root = str(tmp_path / "exports")
    manifest = export_gold(gold_db, root, gold_version=7)

    assert manifest["format_version"] == parquet.FORMAT_VERSION
    assert manifest["gold_version"] == 7
    assert read_manifest(root) == manifest
    # one entry per declared table, each with the table's own row count
    assert set(manifest["tables"]) == {t.name for t in TABLES}
    with psycopg.connect(gold_db) as conn:
        for name, entry in manifest["tables"].items():
            count = conn.execute(
                sql.SQL("select count(*) from {}").format(
                    sql.Identifier(*entry["relation"].split("."))
                )
            ).fetchone()[0]
            assert entry["rows"] == count == sum(f["rows"] for f in entry["files"]), name
    assert manifest["tables"]["fct_post_engagement"]["rows"] == 3

    # partitions: platform, then the UTC date of captured_at (p2 was captured at 01:00 on the 2nd)
    posts = manifest["tables"]["fct_post_engagement"]
    assert [f["path"] for f in posts["files"]] == [
        "fct_post_engagement/platform=instagram/capture_date=2026-10-01/part-00000.parquet",
        "fct_post_engagement/platform=instagram/capture_date=2026-10-02/part-00000.parquet",
        "fct_post_engagement/platform=tiktok/capture_date=2026-10-02/part-00000.parquet",
    ]
    version = Path(root) / manifest["version_path"]
    for f in posts["files"]:
        metadata = pq.ParquetFile(version / f["path"]).metadata
        assert metadata.num_rows == 1
        assert metadata.row_group(0).column(0).compression == "ZSTD"

    # pyarrow: the declared schema exactly, partition keys typed too
    arrow = read_table(root, "fct_post_engagement")
    declared = table("fct_post_engagement")
    assert arrow.schema.field("engagement_rate_followers").type == pa.float64()
    assert arrow.schema.field("likes").type == pa.int64()
    assert arrow.schema.field("captured_at").type == pa.timestamp("us", tz="UTC")
    assert arrow.schema.field("capture_date").type == pa.date32()
    assert arrow.schema.field("platform").type == pa.string()
    assert arrow.column_names == [*declared.names, "capture_date"]
    rows = sorted(arrow.to_pylist(), key=lambda r: r["post_id"])
    assert [r["likes"] for r in rows] == [120, None, 50]
    assert [r["engagement_rate_followers"] for r in rows] == [1.2345, 0.03, None]
    assert rows[1]["captured_at"] == at(2, 1)
    assert [r["platform"] for r in rows] == ["instagram", "instagram", "tiktok"]

    # pandas, nullable dtypes: counts are Int64 with <NA>, rates floats, timestamps UTC
    frame = pd.read_parquet(
        version / "fct_post_engagement",
        partitioning=declared.partitioning(),
        dtype_backend="numpy_nullable",
    ).sort_values("post_id")
    assert str(frame["likes"].dtype) == "Int64"
    assert frame["likes"].isna().tolist() == [False, True, False]
    assert str(frame["engagement_rate_followers"].dtype) == "Float64"
    assert str(frame["captured_at"].dtype) == "datetime64[us, UTC]"
    assert frame["comments"].sum() == 11

    # DuckDB over the same files, with Hive partitions
    glob = f"{version}/fct_post_engagement/**/*.parquet"
    relation = f"read_parquet('{glob}', hive_partitioning = true)"
    types = dict(
        duckdb.sql(
            f"select column_name, column_type from (describe select * from {relation})"
        ).fetchall()
    )
    assert types["engagement_rate_followers"] == "DOUBLE"
    assert types["likes"] == "BIGINT"
    assert types["captured_at"] == "TIMESTAMP WITH TIME ZONE"
    assert types["capture_date"] == "DATE"
    assert duckdb.sql(
        f"select platform, count(*), sum(likes) from {relation} group by 1 order by 1"
    ).fetchall() == [("instagram", 2, 120), ("tiktok", 1, 50)]


def test_an_empty_table_keeps_its_declared_types(gold_db, tmp_path):
    root = str(tmp_path / "exports")
    manifest = export_gold(gold_db, root)
    entry = manifest["tables"]["dim_influencers"]
    assert entry["rows"] == 0 and len(entry["files"]) == 1
    empty = read_table(root, "dim_influencers")
    assert empty.num_rows == 0
    assert empty.schema.field("median_engagement_rate").type == pa.float64()
    assert empty.schema.field("followers").type == pa.int64()
    assert empty.schema.field("growth_as_of").type == pa.date32()
    assert not any(pa.types.is_null(f.type) for f in empty.schema)
    # the file alone says the same (no null-typed columns)
    path = Path(root) / manifest["version_path"] / entry["files"][0]["path"]
    alone = pq.read_schema(path)
    assert alone.field("captured_at").type == pa.timestamp("us", tz="UTC")
    assert "platform" not in alone.names  # it lives in the folder name
    described = dict(
        duckdb.sql(
            f"select column_name, column_type from (describe select * from '{path}')"
        ).fetchall()
    )
    assert described["median_engagement_rate"] == "DOUBLE"


def test_numeric_precision_does_not_reach_the_files(gold_db, tmp_path):
    root = str(tmp_path / "exports")
    first = export_gold(gold_db, root)
    with psycopg.connect(gold_db, autocommit=True) as conn:
        conn.execute(
            "alter table gold.fct_post_engagement"
            " alter column engagement_rate_followers type numeric(6,4),"
            " alter column likes type integer"
        )
    second = export_gold(gold_db, root)
    assert (
        first["tables"]["fct_post_engagement"]["columns"]
        == second["tables"]["fct_post_engagement"]["columns"]
    )
    schema = read_table(root, "fct_post_engagement").schema
    assert schema.field("engagement_rate_followers").type == pa.float64()
    assert schema.field("likes").type == pa.int64()


def test_a_column_gold_adds_or_loses_fails_the_export_and_keeps_the_current_version(
    gold_db, tmp_path
):
    root = str(tmp_path / "exports")
    current = export_gold(gold_db, root)
    with psycopg.connect(gold_db, autocommit=True) as conn:
        conn.execute("alter table gold.dim_influencers add column new_metric numeric")
    with pytest.raises(ExportSchemaError, match=r"gold.dim_influencers .*not declared: new_metric"):
        export_gold(gold_db, root)
    with psycopg.connect(gold_db, autocommit=True) as conn:
        conn.execute("alter table gold.dim_influencers drop column new_metric, drop column access")
    with pytest.raises(ExportSchemaError, match=r"missing in the database: access"):
        export_gold(gold_db, root)
    with psycopg.connect(gold_db, autocommit=True) as conn:
        conn.execute("drop table gold.dim_influencers")
    with pytest.raises(ExportSchemaError, match=r"gold.dim_influencers does not exist"):
        export_gold(gold_db, root)
    # nothing written: the pointer and the only version are the first export's
    assert read_manifest(root)["build_id"] == current["build_id"]
    assert [p.name for p in (Path(root) / "versions").iterdir()] == [current["build_id"]]


def test_a_second_export_replaces_the_first_whole(gold_db, tmp_path):
    root = str(tmp_path / "exports")
    first = export_gold(gold_db, root, keep=1)
    with psycopg.connect(gold_db, autocommit=True) as conn:
        conn.execute("delete from gold.fct_post_engagement where platform = 'tiktok'")
    second = export_gold(gold_db, root, keep=1)
    assert second["build_id"] > first["build_id"]
    assert read_manifest(root)["build_id"] == second["build_id"]
    assert read_table(root, "fct_post_engagement").num_rows == 2
    # a reader still holding the first manifest reads the whole first version until the purge
    assert read_table(root, "fct_post_engagement", manifest=first).num_rows == 3
    # the next export removes it (keep=1 holds one older version: the second)
    third = export_gold(gold_db, root, keep=1)
    versions = sorted(p.name for p in (Path(root) / "versions").iterdir())
    assert versions == [second["build_id"], third["build_id"]]
    with pytest.raises(FileNotFoundError):
        read_table(root, "fct_post_engagement", manifest=first)
    # erasure purges every older version
    assert purge_old_versions(root, keep=0) == [second["build_id"]]
    assert [p.name for p in (Path(root) / "versions").iterdir()] == [third["build_id"]]


def test_a_build_that_fails_midway_leaves_the_current_version_alone(gold_db, tmp_path, monkeypatch):
    root = str(tmp_path / "exports")
    current = export_gold(gold_db, root)
    real = parquet._export_table
    calls = []

    def fail_on_the_third_table(*args, **kwargs):
        calls.append(args[3].name)
        if len(calls) == 3:
            raise OSError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(parquet, "_export_table", fail_on_the_third_table)
    with pytest.raises(OSError, match="disk full"):
        export_gold(gold_db, root)
    assert read_manifest(root) == current
    assert [p.name for p in (Path(root) / "versions").iterdir()] == [current["build_id"]]
    assert read_table(root, "fct_post_engagement").num_rows == 3


def test_abandoned_builds_and_the_flat_layout_are_purged(gold_db, tmp_path):
    root = tmp_path / "exports"
    (root / "gold").mkdir(parents=True)
    (root / "gold" / "fct_post_engagement.parquet").write_bytes(b"old layout")
    current = export_gold(gold_db, str(root), keep=0)
    versions = root / "versions"
    # a build that died two days ago, and one that another exporter is writing right now
    dead = versions / "20261001T000000000000Z-aaaaaa"
    dead.mkdir()
    (dead / "x.parquet").write_bytes(b"")
    running = parquet.new_build_id(datetime(2099, 1, 1, tzinfo=UTC))
    (versions / running).mkdir()
    removed = purge_old_versions(str(root), keep=0, now=datetime(2099, 1, 1, 1, tzinfo=UTC))
    assert removed == ["20261001T000000000000Z-aaaaaa"]
    assert sorted(p.name for p in versions.iterdir()) == sorted([current["build_id"], running])
    assert not (root / "gold").exists()


def test_batches_and_file_size_limit_split_files_without_losing_rows(db_url, tmp_path):
    create_tables(db_url)
    with psycopg.connect(db_url, autocommit=True) as conn:
        insert(
            conn,
            "silver.int_account_snapshots",
            [
                {
                    "platform": "instagram",
                    "account_id": "a",
                    "followers": n,
                    "captured_at": at(3, n),
                }
                for n in range(7)
            ],
        )
    root = str(tmp_path / "exports")
    manifest = export_gold(db_url, root, batch_rows=2, max_rows_per_file=3)
    files = manifest["tables"]["int_account_snapshots"]["files"]
    assert [(f["path"].rsplit("/", 1)[1], f["rows"]) for f in files] == [
        ("part-00000.parquet", 3),
        ("part-00001.parquet", 3),
        ("part-00002.parquet", 1),
    ]
    assert sorted(
        read_table(root, "int_account_snapshots").column("followers").to_pylist()
    ) == list(range(7))


def test_an_fsspec_memory_root_works(gold_db):
    root = f"memory://analisa-exports-{uuid.uuid4().hex[:8]}"
    fs = fsspec.filesystem("memory")
    try:
        manifest = export_gold(gold_db, root)
        assert json.loads(fs.cat_file(f"{root}/manifest.json"))["build_id"] == manifest["build_id"]
        posts = read_table(root, "fct_post_engagement")
        assert posts.num_rows == 3
        assert posts.schema.field("likes").type == pa.int64()
        brands = read_table(root, "dim_brands").to_pylist()
        assert brands[0]["brand_name"] == "Acme" and brands[0]["followers_min"] == 1000
    finally:
        fs.rm(root.removeprefix("memory://"), recursive=True)


def test_the_declared_kinds_cover_every_column_once():
    for t in TABLES:
        assert len(t.names) == len(set(t.names))
        assert t.dataset_schema().names[: len(t.file_columns)] == [n for n, _ in t.file_columns]
    assert table("gold.fct_influencer_daily").partition_keys == (
        ("platform", "string"),
        ("capture_date", "date"),
    )
    assert table("dim_brands").partition_keys == ()
    assert date(2026, 1, 1).isoformat() == "2026-01-01"


def test_by_default_an_export_leaves_no_earlier_version(gold_db, tmp_path):
    # what an erasure relies on: after export_gold(url, root), no file from before remains
    root = tmp_path / "exports"
    export_gold(gold_db, str(root), keep=3)
    export_gold(gold_db, str(root), keep=3)
    with psycopg.connect(gold_db, autocommit=True) as conn:
        conn.execute("delete from gold.fct_post_engagement where account_id = 'ig-1'")
    latest = export_gold(gold_db, str(root))
    assert [p.name for p in (root / "versions").iterdir()] == [latest["build_id"]]
    files = [p for p in root.rglob("*.parquet")]
    held = sum(
        pq.read_table(p).column("account_id").to_pylist().count("ig-1")
        for p in files
        if "account_id" in pq.read_schema(p).names
    )
    assert held == 0
    assert read_table(str(root), "fct_post_engagement").num_rows == 1
