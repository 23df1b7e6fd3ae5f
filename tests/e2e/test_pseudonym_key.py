"""The whole path with a production-like pseudonym key: `analisa ingest` → `analisa pipeline`
(Dagster runs dbt through its launcher) → `analisa export`. Mentions are pseudonyms in silver,
gold and the Parquet files, equal to the Python HMAC; the key itself is in none of them, nor in
dbt's target folders, the pipeline log, Dagster's run storage, or the environment of this
process."""

from __future__ import annotations

import json
import os
import time
import uuid

import psycopg
import pyarrow.parquet as pq
from typer.testing import CliRunner

from analisa.cli import app
from analisa.core.crypto import pseudonymise
from orchestration.defs.dbt.resources import dbt_project_dir

IG = "17841400000000555"
CAPTION = "Treino com @Bia.Fit e @ruNNer_2 hoje! #fitness"


def _envelopes() -> list[dict]:
    profile = {
        "user_id": IG,
        "username": "key.check",
        "followers_count": 2000,
        "follows_count": 20,
        "media_count": 1,
        "id": IG,
    }
    page = {
        "data": [
            {
                "id": "17900000000005551",
                "caption": CAPTION,
                "media_type": "IMAGE",
                "media_product_type": "FEED",
                "timestamp": "2026-10-01T10:00:00+0000",
                "like_count": 120,
                "comments_count": 4,
            }
        ]
    }
    common = {"platform": "instagram", "account_id": IG, "status": 200}
    return [
        {
            **common,
            "endpoint": "user",
            "round_id": "k1",
            "fetched_at": "2026-10-02T10:00:00+00:00",
            "body": profile,
        },
        {
            **common,
            "endpoint": "media",
            "round_id": "k1",
            "fetched_at": "2026-10-02T10:00:01+00:00",
            "body": page,
        },
    ]


def _files_holding(folder, needle: bytes, since: float) -> list[str]:
    hits = []
    for path in folder.rglob("*"):
        try:
            if path.is_file() and path.stat().st_mtime >= since and needle in path.read_bytes():
                hits.append(str(path))
        except OSError:  # a file another run removed meanwhile
            continue
    return hits


def test_the_key_reaches_dbt_sessions_and_nothing_else(pipeline_env, tmp_path, monkeypatch):
    key = f"prod-like key {uuid.uuid4().hex}"
    monkeypatch.setenv("ANALISA_PSEUDONYM_KEY", key)
    started = time.time() - 1
    runner = CliRunner()
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("\n".join(json.dumps(e) for e in _envelopes()) + "\n")
    result = runner.invoke(app, ["ingest", str(corpus)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["pipeline"])
    assert result.exit_code == 0, result.output
    exports = tmp_path / "parquet"
    result = runner.invoke(app, ["export", "--root", str(exports)])
    assert result.exit_code == 0, result.output

    expected = (
        f"Treino com @{pseudonymise('bia.fit', key)} e @{pseudonymise('runner_2', key)} hoje!"
        " #fitness"
    )
    with psycopg.connect(pipeline_env) as conn:
        silver = conn.execute("select caption from silver.stg_instagram__media").fetchall()
        gold = conn.execute("select caption from gold.fct_post_engagement").fetchall()
        influencer = conn.execute("select username from gold.dim_influencers").fetchall()
    assert silver == [(expected,)]
    assert gold == [(expected,)]
    assert influencer == [("key.check",)]  # the subject of the analysis, by name

    exported = []
    for path in exports.rglob("*.parquet"):
        for row in pq.read_table(path).to_pylist():
            text = json.dumps(row, default=str)
            assert key not in text, path
            if "Treino com" in text:
                exported.append(row.get("caption"))
    assert exported and set(exported) == {expected}

    needle = key.encode()
    # the searches below do read this run's files: each holds something of the run
    assert _files_holding(dbt_project_dir() / "target", b"stg_instagram__media", started)
    assert _files_holding(tmp_path / "dagster", b"build_from_bronze", started)
    assert _files_holding(dbt_project_dir() / "target", needle, started) == []
    assert _files_holding(tmp_path / "home", needle, started) == []  # pipeline log, database files
    assert _files_holding(tmp_path / "dagster", needle, started) == []  # Dagster's run storage
    assert "analisa.pseudonym_key" not in os.environ.get("PGOPTIONS", "")
