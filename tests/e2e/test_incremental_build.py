"""An incremental build after new bronze gives the same silver and gold as a full refresh of the
same bronze: the incremental models (staging on bronze's loading transactions, gold on the accounts
with new records) only save work, never change an answer."""

import json

import psycopg
from typer.testing import CliRunner

from analisa.cli import app
from tests.e2e.test_ingest_pipeline import IG, env, media
from tests.e2e.test_ingest_pipeline import envelopes as hand_made
from tests.e2e.test_real_world_responses import envelopes as recorded

STAGING = (
    "silver.stg_instagram__media",
    "silver.stg_instagram__media_insights",
    "silver.stg_tiktok__videos",
)
TABLES = {
    "silver.stg_instagram__media": "post_id, captured_at",
    "silver.stg_instagram__media_insights": "post_id, captured_at",
    "silver.stg_tiktok__videos": "post_id, captured_at",
    "silver.int_post_snapshots": "platform, post_id, captured_at",
    "silver.int_post_listing_gaps": "platform, post_id",
    "silver.int_posts": "platform, post_id",
    "gold.fct_post_engagement": "platform, post_id",
    "gold.dim_influencers": "platform, account_id",
    "gold.audience_segments": "platform, account_id, dimension, segment",
    "gold.post_sponsored_markers": "platform, post_id",
    "gold.post_interests": "platform, post_id, interest, method",
    "gold.fct_influencer_daily": "platform, account_id, day",
    "gold.influencer_interests": "platform, account_id, interest",
}


def edited_captions() -> dict:
    """A later listing of the hand-made account: A's caption edited (now sponsored), B's
    caption removed."""
    edited = media("A", "2026-09-30T10:00:00+0000", 31, likes=160)
    edited["caption"] = "post A editado #publi #fitness"
    removed = media("B", "2026-09-29T10:00:00+0000", 9)
    del removed["caption"]
    body = {"data": [edited, removed], "paging": {"cursors": {"before": "c0"}}}
    return env("instagram", "media", IG, "r4", "2026-10-05T10:00:01Z", body)


def _caption_findings(url: str) -> dict[str, tuple]:
    """Each post's sponsored marker and keyword interests (with their matched terms)."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select markers.post_id, markers.sponsored_marker,"
            " coalesce(string_agg(interests.interest || ':' || interests.matched_terms, ';'"
            "  order by interests.interest), '')"
            " from gold.post_sponsored_markers as markers"
            " left join gold.post_interests as interests"
            "  on interests.platform = markers.platform and interests.post_id = markers.post_id"
            "  and interests.method = 'keyword'"
            " group by markers.post_id, markers.sponsored_marker"
        ).fetchall()
    return {post_id: (marker, interests) for post_id, marker, interests in rows}


def _snapshot(url: str) -> dict[str, list[tuple]]:
    with psycopg.connect(url) as conn:
        out = {}
        for table, order in TABLES.items():
            columns = [
                r[0]
                for r in conn.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema || '.' || table_name = %s and column_name <> 'ingested_at' "
                    "order by ordinal_position",
                    (table,),
                )
            ]
            out[table] = conn.execute(
                f"select {', '.join(columns)} from {table} order by {order}"
            ).fetchall()
        return out


def _ingest(runner: CliRunner, path, items) -> None:
    path.write_text("\n".join(json.dumps(e) for e in items) + "\n")
    result = runner.invoke(app, ["ingest", str(path)])
    assert result.exit_code == 0, result.output


def test_incremental_build_equals_full_refresh(pipeline_env, tmp_path, monkeypatch):
    # the caption enrichment has its own end-to-end test: here it would only add minutes
    monkeypatch.setenv("ANALISA_ENRICHMENT", "off")
    runner = CliRunner()
    first, later = hand_made(), recorded()
    # the first build sees half of the hand-made answers ...
    _ingest(runner, tmp_path / "a.jsonl", first[: len(first) // 2])
    result = runner.invoke(app, ["pipeline"])
    assert result.exit_code == 0, result.output
    # the staging rows of the first build, by the transaction that wrote them
    with psycopg.connect(pipeline_env) as conn:
        old = {
            table: conn.execute(f"select xmin::text, count(*) from {table} group by 1").fetchall()
            for table in STAGING
        }
        # one writing transaction per table (the first half holds no TikTok answer)
        assert [len(written) for written in old.values()] == [1, 1, 0], old
    before = _caption_findings(pipeline_env)
    assert {post: before[post] for post in "ABC"} == {
        post: (None, "fitness:#fitness") for post in "ABC"
    }
    # ... the next one the rest of them, the recorded answers and edited captions: incremental
    _ingest(runner, tmp_path / "b.jsonl", first[len(first) // 2 :] + later + [edited_captions()])
    result = runner.invoke(app, ["pipeline"])
    assert result.exit_code == 0, result.output
    incremental = _snapshot(pipeline_env)
    after = _caption_findings(pipeline_env)
    # the edited caption is matched again (now sponsored), the removed one matches nothing
    assert {post: after[post] for post in "ABC"} == {
        "A": ("#publi", "fitness:#fitness"),
        "B": (None, ""),
        "C": (None, "fitness:#fitness"),
    }
    with psycopg.connect(pipeline_env) as conn:
        for table, [(xmin, count)] in list(old.items())[:2]:
            # the first build's rows were not read again (bronze's watermark): still all there,
            # written by the same transaction
            kept = conn.execute(
                f"select count(*) from {table} where xmin::text = %s", (xmin,)
            ).fetchone()[0]
            assert kept == count, table
    result = runner.invoke(app, ["pipeline", "--full-refresh"])
    assert result.exit_code == 0, result.output
    full = _snapshot(pipeline_env)
    assert {t: len(rows) for t, rows in full.items()} == {
        t: len(rows) for t, rows in incremental.items()
    }
    assert all(full[t] for t in TABLES)
    for table in TABLES:
        differing = [(a, b) for a, b in zip(incremental[table], full[table], strict=True) if a != b]
        assert differing == [], table
