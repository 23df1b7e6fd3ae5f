"""Answers as real users hold them reach gold, with exact hand-computed values: profile
envelopes without round_id, a Business Discovery media page without counts beside a full
profile, TikTok's basic-scope user/info, a listing round that starts at page 2 (not complete, so
its missing post is not deleted), and a later count-less snapshot (followers keep the last
known value)."""

import json
from datetime import UTC, datetime
from decimal import Decimal

import psycopg
from typer.testing import CliRunner

from analisa.cli import app

IG = "17841400000000222"  # a connected creator
PUB = "17841401111111111"  # a public creator seen through Business Discovery
BRAND = "17841400123456789"  # the brand's account that asked
TT = "-000basicscope"


def env(platform, endpoint, account, at, body, round_id=None, object_id=None, status=200):
    envelope = {
        "platform": platform,
        "endpoint": endpoint,
        "account_id": account,
        "fetched_at": at,
        "status": status,
        "body": body,
    }
    if round_id:
        envelope["round_id"] = round_id
    if object_id:
        envelope["object_id"] = object_id
    return envelope


def item(id_, ts, likes, comments):
    return {
        "id": id_,
        "caption": f"post {id_}",
        "media_type": "IMAGE",
        "media_product_type": "FEED",
        "timestamp": ts,
        "like_count": likes,
        "comments_count": comments,
        "permalink": f"https://www.instagram.com/p/{id_}/",
    }


def envelopes():
    profile = {"user_id": IG, "username": "full.profile", "follows_count": 10, "media_count": 2}
    return [
        # connected creator: profiles without round_id
        env(
            "instagram",
            "user",
            IG,
            "2026-09-30T10:00:00Z",
            {**profile, "followers_count": 900, "id": IG},
        ),
        env(
            "instagram",
            "user",
            IG,
            "2026-10-01T10:00:00Z",
            {**profile, "followers_count": 1000, "id": IG},
        ),
        # a later partial answer: no counts at all; it must not erase them
        env(
            "instagram", "user", IG, "2026-10-02T10:00:00Z", {"id": IG, "username": "full.profile"}
        ),
        # r0: a complete listing (first page, no next)
        env(
            "instagram",
            "media",
            IG,
            "2026-09-30T10:00:30Z",
            {
                "data": [
                    item("P1", "2026-09-20T08:00:00+0000", 40, 4),
                    item("P2", "2026-09-10T08:00:00+0000", 20, 2),
                ],
                "paging": {"cursors": {"before": "QVFIb", "after": "QVFIa"}},
            },
            round_id="r0",
        ),
        # r1 starts at page 2 (paging.previous): not complete, so P2's absence proves nothing
        env(
            "instagram",
            "media",
            IG,
            "2026-10-01T10:01:00Z",
            {
                "data": [item("P1", "2026-09-20T08:00:00+0000", 50, 5)],
                "paging": {
                    "cursors": {"before": "QVFIc", "after": "QVFId"},
                    "previous": f"https://graph.instagram.com/v23.0/{IG}/media?before=QVFIc",
                },
            },
            round_id="r1",
        ),
        # a not-found probe of P2 after r1: alone it is not a deletion
        env(
            "instagram",
            "media_object",
            IG,
            "2026-10-01T10:05:00Z",
            {
                "error": {
                    "message": "Unsupported get request.",
                    "type": "GraphMethodException",
                    "code": 100,
                    "error_subcode": 33,
                }
            },
            object_id="P2",
            status=400,
        ),
        # public creator: a Business Discovery profile with counts and media ...
        env(
            "instagram",
            "user",
            PUB,
            "2026-10-01T12:00:00Z",
            {
                "business_discovery": {
                    "username": "other.creator",
                    "followers_count": 5000,
                    "follows_count": 80,
                    "media_count": 2,
                    "id": PUB,
                    "media": {"data": [item("Q1", "2026-09-28T12:00:00+0000", 100, 20)]},
                },
                "id": BRAND,
            },
        ),
        # ... then a media page only: no counts, not a profile with zero followers
        env(
            "instagram",
            "user",
            PUB,
            "2026-10-02T12:00:00Z",
            {
                "business_discovery": {
                    "id": PUB,
                    "media": {
                        "data": [item("Q1", "2026-09-28T12:00:00+0000", 150, 30)],
                        "paging": {"cursors": {"after": "QVFIe"}},
                    },
                },
                "id": BRAND,
            },
        ),
        # TikTok under the basic scope: who, without counts
        env(
            "tiktok",
            "user_info",
            TT,
            "2026-10-01T09:00:00Z",
            {
                "data": {
                    "user": {
                        "open_id": TT,
                        "union_id": "c9c60f44-aaaa",
                        "avatar_url": "https://p16.tiktokcdn.com/a.jpeg",
                        "display_name": "Basic Scope",
                    }
                },
                "error": {"code": "ok", "message": "", "log_id": "2026100109000001"},
            },
        ),
    ]


def test_real_world_answers_reach_gold(pipeline_env, tmp_path):
    path = tmp_path / "recorded.jsonl"
    path.write_text("\n".join(json.dumps(e) for e in envelopes()) + "\n")
    runner = CliRunner()
    result = runner.invoke(app, ["ingest", str(path)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["pipeline"])
    assert result.exit_code == 0, result.output

    with psycopg.connect(pipeline_env) as conn:
        posts = conn.execute(
            """select platform, account_id, post_id, likes, comments, followers_at_capture,
                      engagement_rate_followers, is_deleted
               from gold.fct_post_engagement order by platform, post_id"""
        ).fetchall()
        influencers = conn.execute(
            """select platform, account_id, username, followers, followers_captured_at,
                      following, posts_count, median_engagement_rate, mean_engagement_rate
               from gold.dim_influencers order by platform, account_id"""
        ).fetchall()
        rounds = conn.execute(
            "select round_id, starts_at_first_page, is_complete "
            "from silver.stg_instagram__media_listing_rounds order by round_id"
        ).fetchall()
        quarantined = conn.execute("select count(*) from silver.quarantine_records").fetchone()[0]

    D = Decimal
    utc = UTC
    assert rounds == [("r0", True, True), ("r1", False, False)]
    assert quarantined == 0
    assert posts == [
        # P1 latest at r1 (10-01 10:01), followers in force 1000: (50 + 5) / 1000 × 100
        ("instagram", IG, "P1", 50, 5, 1000, D("5.5000"), False),
        # P2 last seen at r0 (09-30), followers then 900: 22 / 900 × 100; not deleted
        ("instagram", IG, "P2", 20, 2, 900, D("2.4444"), False),
        # Q1 latest from the media page (10-02), followers known since 10-01: 180 / 5000 × 100
        ("instagram", PUB, "Q1", 150, 30, 5000, D("3.6000"), False),
    ]
    assert influencers == [
        # the 10-02 answer without counts keeps 1000 (captured 10-01); median of 5.5 and 2.4444
        (
            "instagram",
            IG,
            "full.profile",
            1000,
            datetime(2026, 10, 1, 10, tzinfo=utc),
            10,
            2,
            D("3.9722"),
            D("3.9722"),
        ),
        (
            "instagram",
            PUB,
            "other.creator",
            5000,
            datetime(2026, 10, 1, 12, tzinfo=utc),
            80,
            2,
            D("3.6000"),
            D("3.6000"),
        ),
        ("tiktok", TT, "Basic Scope", None, None, None, None, None, None),
    ]
