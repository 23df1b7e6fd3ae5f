"""The whole path a data platform user would check: raw corpus → `analisa ingest` → `analisa
pipeline` (silver, gold) → `analisa export` (Parquet) → `analisa erase` → then every table of
every schema and every export file is searched for the account's id, its posts and its
username, the others' gold is compared with what it was, and a rebuild and a new ingest of the
same corpus bring nothing back."""

from __future__ import annotations

import json

import psycopg
import pyarrow.parquet as pq
from typer.testing import CliRunner

from analisa.cli import app
from tests.integration.privacy.corpus import (
    SUBJECT,
    SUBJECT_NAME,
    SUBJECT_POSTS,
    write_corpus,
)
from tests.integration.privacy.test_erasure import substring_hits


def _gold_of_others(url: str) -> dict[str, list]:
    with psycopg.connect(url) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "select table_name from information_schema.columns where table_schema = 'gold'"
                " and column_name = 'account_id' order by 1"
            )
        ]
        return {
            t: conn.execute(
                f"select count(*) from gold.{t} where account_id <> %s", (SUBJECT,)
            ).fetchone()[0]
            for t in tables
        }


def _export_hits(root) -> dict[str, int]:
    """Rows of any Parquet file under root whose any string value names the account."""
    hits = {}
    for path in root.rglob("*.parquet"):
        for row in pq.read_table(path).to_pylist():
            text = json.dumps(row, default=str).lower()
            if (
                SUBJECT in text
                or any(p in text for p in SUBJECT_POSTS)
                or (f'"{SUBJECT_NAME}"' in text)
            ):
                hits[str(path.relative_to(root))] = hits.get(str(path.relative_to(root)), 0) + 1
    return hits


def test_erase_after_a_real_build_leaves_nothing_anywhere(pipeline_env, tmp_path, monkeypatch):
    monkeypatch.setenv("ANALISA_PSEUDONYM_KEY", "e2e-pseudonym-key")
    runner = CliRunner()
    corpus = write_corpus(tmp_path / "corpus.jsonl")
    result = runner.invoke(app, ["ingest", str(corpus)])
    assert result.exit_code == 1, result.output  # the one rejected line
    assert "11 envelopes: 10 loaded" in result.output
    result = runner.invoke(app, ["pipeline"])
    assert result.exit_code == 0, result.output
    root = tmp_path / "exports"
    result = runner.invoke(app, ["export", "--root", str(root)])
    assert result.exit_code == 0, result.output

    with psycopg.connect(pipeline_env) as conn:
        in_gold = conn.execute(
            "select count(*) from gold.dim_influencers where account_id = %s", (SUBJECT,)
        ).fetchone()[0]
        posts_in_gold = conn.execute(
            "select count(*) from gold.fct_post_engagement where account_id = %s", (SUBJECT,)
        ).fetchone()[0]
    assert (in_gold, posts_in_gold) == (1, 2)
    assert _export_hits(root) != {}  # the export did hold them
    others_before = _gold_of_others(pipeline_env)
    assert others_before["dim_influencers"] == 2  # OTHER on Instagram, the TikTok creator

    # access first: everything held about them, from every layer, tokens never
    out = tmp_path / "subject.json"
    result = runner.invoke(
        app,
        ["subject-export", "--platform", "instagram", "--account-id", SUBJECT, "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert out.stat().st_mode & 0o777 == 0o600
    held = json.loads(out.read_text(encoding="utf-8"))
    assert held["usernames"] == [SUBJECT_NAME]
    # their 2 posts, and the other creator's post whose caption mentions them
    assert held["row_counts"]["gold.fct_post_engagement"] == 3
    assert held["row_counts"]["gold.dim_influencers"] == 1
    assert held["row_counts"]["bronze.raw_records"] == 7
    assert {"silver.int_posts", "bronze.rejected_envelopes"} <= set(held["tables"])

    monkeypatch.setenv("ANALISA_EXPORT_ROOT", str(root))
    result = runner.invoke(app, ["erase", "--platform", "instagram", "--account-id", SUBJECT])
    assert result.exit_code == 0, result.output
    assert "verification: 0 rows, 0 cache keys, 0 queued tasks, 0 export files" in result.output

    # an independent search of every table of every schema and every export file
    assert substring_hits(pipeline_env, [SUBJECT, *SUBJECT_POSTS]) == {}
    with psycopg.connect(pipeline_env) as conn:
        named = conn.execute(
            "select count(*) from gold.dim_influencers"
            " where platform = 'instagram' and lower(username) = %s",
            (SUBJECT_NAME,),
        ).fetchone()[0]
    assert named == 0
    assert _export_hits(root) == {}
    assert _gold_of_others(pipeline_env) == others_before

    # twice: succeeds, nothing left
    result = runner.invoke(app, ["erase", "--platform", "instagram", "--account-id", SUBJECT])
    assert result.exit_code == 0, result.output
    assert "nothing left to erase" in result.output

    # the same raw data again, and a rebuild: nothing of them comes back
    result = runner.invoke(app, ["ingest", str(corpus)])
    assert "6 suppressed" in result.output, result.output
    result = runner.invoke(app, ["pipeline"])
    assert result.exit_code == 0, result.output
    assert substring_hits(pipeline_env, [SUBJECT, *SUBJECT_POSTS]) == {}
    assert _gold_of_others(pipeline_env) == others_before

    result = runner.invoke(app, ["audit", "--limit", "10"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if " erase " in line]
    assert len(lines) == 2 and " ok " in lines[1] and " nothing " in lines[0]
    assert SUBJECT not in result.output and SUBJECT_NAME not in result.output
    with psycopg.connect(pipeline_env) as conn:
        audit_text = conn.execute("select string_agg(details::text, ' ') from ops.audit_log")
        assert SUBJECT not in audit_text.fetchone()[0]
