"""`analisa ingest` then `analisa pipeline` on a hand-made file of envelopes: exact gold values.

The file holds duplicates, a bad line, a deleted post (complete listing without it, then a
not-found answer), a not-found answer WITHOUT a complete listing (not a deletion), hidden likes,
and followers that change after the last media capture.
"""

import json
from decimal import Decimal

import psycopg
from typer.testing import CliRunner

from analisa.cli import app
from tests.e2e.brand_endpoints import add_workspace_with_brand, check_brand_endpoints

IG, TT = "17841400000000111", "-000ttcreator"
CREATORS = (("instagram", IG), ("tiktok", TT))


def env(platform, endpoint, account, round_id, at, body, status=200, object_id=None):
    return {
        "platform": platform,
        "endpoint": endpoint,
        "account_id": account,
        "object_id": object_id,
        "round_id": round_id,
        "fetched_at": at,
        "status": status,
        "body": body,
    }


def ig_user(followers, at, round_id):
    body = {
        "user_id": IG,
        "username": "hand.made",
        "followers_count": followers,
        "follows_count": 10,
        "media_count": 3,
        "id": IG,
    }
    return env("instagram", "user", IG, round_id, at, body)


def media(id_, ts, comments, likes=None, mtype="IMAGE"):
    item = {
        "id": id_,
        "caption": f"post {id_} #fitness",
        "media_type": mtype,
        "media_product_type": "FEED",
        "timestamp": ts,
        "comments_count": comments,
        "permalink": f"https://www.instagram.com/p/{id_}/",
    }
    if likes is not None:
        item["like_count"] = likes
    return item


def insights(media_id, round_id, at, reach, shares):
    body = {
        "data": [
            {"name": "reach", "period": "lifetime", "values": [{"value": reach}]},
            {"name": "shares", "period": "lifetime", "values": [{"value": shares}]},
        ]
    }
    return env("instagram", "media_insights", IG, round_id, at, body, object_id=media_id)


def demographics(round_id, at, key, pairs):
    body = {
        "data": [
            {
                "name": "follower_demographics",
                "period": "lifetime",
                "total_value": {
                    "breakdowns": [
                        {
                            "dimension_keys": [key],
                            "results": [{"dimension_values": [k], "value": v} for k, v in pairs],
                        }
                    ]
                },
            }
        ]
    }
    return env("instagram", "user_insights", IG, round_id, at, body)


def tt_user(followers, at, round_id):
    body = {
        "data": {
            "user": {
                "open_id": TT,
                "display_name": "Hand Made",
                "follower_count": followers,
                "following_count": 3,
                "likes_count": 900,
                "video_count": 2,
            }
        },
        "error": {"code": "ok", "message": "", "log_id": "x"},
    }
    return env("tiktok", "user_info", TT, round_id, at, body)


def video(id_, created, likes, comments, shares, views):
    return {
        "id": id_,
        "create_time": created,
        "title": "v",
        "video_description": "v #comida",
        "duration": 30,
        "like_count": likes,
        "comment_count": comments,
        "share_count": shares,
        "view_count": views,
    }


def envelopes():
    ok = {"code": "ok", "message": "", "log_id": "x"}
    page1_r1 = {
        "data": [
            media("A", "2026-09-30T10:00:00+0000", 20, likes=100),
            media("B", "2026-09-29T10:00:00+0000", 5),
        ],
        "paging": {
            "cursors": {"after": "c1"},
            "next": "https://graph.instagram.com/v23.0/x?after=c1",
        },
    }
    page2_r1 = {
        "data": [media("C", "2026-09-28T10:00:00+0000", 10, likes=50, mtype="VIDEO")],
        "paging": {"cursors": {"before": "c1"}},
    }
    page1_r2 = {
        "data": [
            media("A", "2026-09-30T10:00:00+0000", 30, likes=150),
            media("B", "2026-09-29T10:00:00+0000", 8),
        ],
        "paging": {"cursors": {"before": "c0"}},
    }
    not_found = {
        "error": {
            "message": "Unsupported get request. Object with ID 'C' does not exist",
            "type": "GraphMethodException",
            "code": 100,
            "error_subcode": 33,
            "fbtrace_id": "f",
        }
    }
    return [
        # Instagram round r1: followers 1000, listing complete over two pages
        ig_user(1000, "2026-10-01T10:00:00Z", "r1"),
        env("instagram", "media", IG, "r1", "2026-10-01T10:00:01Z", page1_r1),
        env("instagram", "media", IG, "r1", "2026-10-01T10:00:02Z", page2_r1),
        insights("A", "r1", "2026-10-01T10:00:03Z", 500, 10),
        insights("B", "r1", "2026-10-01T10:00:04Z", 200, 0),
        demographics("r1", "2026-10-01T10:00:06Z", "age", [("18-24", 1), ("25-34", 1)]),
        # Instagram round r2: followers 1100; C no longer listed, then answered "does not exist"
        ig_user(1100, "2026-10-03T10:00:00Z", "r2"),
        env("instagram", "media", IG, "r2", "2026-10-03T10:00:01Z", page1_r2),
        insights("A", "r2", "2026-10-03T10:00:02Z", 600, 20),
        insights("A", "r2", "2026-10-03T10:00:02Z", 600, 20),  # duplicate line
        insights("B", "r2", "2026-10-03T10:00:03Z", 300, 2),
        env(
            "instagram",
            "media_object",
            IG,
            "r2",
            "2026-10-03T10:00:05Z",
            not_found,
            status=400,
            object_id="C",
        ),
        demographics(
            "r2", "2026-10-03T10:00:06Z", "age", [("18-24", 300), ("25-34", 600), ("35-44", 100)]
        ),
        demographics("r2", "2026-10-03T10:00:07Z", "gender", [("F", 700), ("M", 250), ("U", 50)]),
        # followers change after the last media capture: must not touch the post rates
        ig_user(2000, "2026-10-04T00:00:00Z", "r3"),
        # TikTok t1: complete listing with V1 and V2
        tt_user(5000, "2026-10-01T12:00:00Z", "t1"),
        env(
            "tiktok",
            "video_list",
            TT,
            "t1",
            "2026-10-01T12:00:01Z",
            {
                "data": {
                    "videos": [
                        video("V1", 1759200000, 400, 50, 50, 10000),
                        video("V2", 1759100000, 100, 0, 0, 2000),
                    ],
                    "cursor": 1759100000000,
                    "has_more": False,
                },
                "error": ok,
            },
        ),
        # TikTok t2: an INCOMPLETE listing (has_more, no next page) without V2, then V2 not found:
        # one signal alone is not a deletion
        tt_user(5000, "2026-10-02T12:00:00Z", "t2"),
        env(
            "tiktok",
            "video_list",
            TT,
            "t2",
            "2026-10-02T12:00:01Z",
            {
                "data": {
                    "videos": [video("V1", 1759200000, 500, 50, 50, 12000)],
                    "cursor": 1759200000000,
                    "has_more": True,
                },
                "error": ok,
            },
        ),
        env(
            "tiktok",
            "video_query",
            TT,
            "t2",
            "2026-10-02T12:00:05Z",
            {"data": {"videos": []}, "error": ok},
            object_id="V2",
        ),
    ]


def test_ingest_then_pipeline_gives_hand_computed_gold(pipeline_env, tmp_path):
    lines = [json.dumps(e) for e in envelopes()]
    lines.insert(5, '{"platform": "instagram", "endpoint": "media", "account_id": ')  # bad line
    path = tmp_path / "responses.jsonl"
    path.write_text("\n".join(lines) + "\n")

    runner = CliRunner()
    result = runner.invoke(app, ["ingest", str(path)])
    assert result.exit_code == 1, result.output  # some envelopes were rejected
    assert "21 envelopes: 19 loaded, 1 already in bronze, 1 rejected" in result.output
    assert "responses.jsonl:6: invalid JSON" in result.output
    # a workspace listing both creators, with a brand: the brand endpoints are read after the build
    workspace_id = add_workspace_with_brand(pipeline_env, CREATORS)

    result = runner.invoke(app, ["pipeline"])
    assert result.exit_code == 0, result.output

    with psycopg.connect(pipeline_env) as conn:
        posts = conn.execute(
            """select platform, post_id, likes, comments, shares, views, reach,
                      followers_at_capture, engagement_rate_followers, engagement_rate_reach,
                      engagement_rate_views, likes_hidden, is_deleted
               from gold.fct_post_engagement order by platform, post_id"""
        ).fetchall()
        influencers = conn.execute(
            """select platform, account_id, username, followers, posts_count,
                      median_engagement_rate, mean_engagement_rate
               from gold.dim_influencers order by platform"""
        ).fetchall()
        audience = conn.execute(
            """select dimension, segment, share from gold.audience_segments
               order by dimension, segment"""
        ).fetchall()

    D = Decimal
    assert posts == [
        # A at r2: (150 + 30 + 20) / 1100 × 100 = 18.1818; by reach 200 / 600 × 100 = 33.3333
        (
            "instagram",
            "A",
            150,
            30,
            20,
            None,
            600,
            1100,
            D("18.1818"),
            D("33.3333"),
            None,
            False,
            False,
        ),
        # B hidden likes at r2: (8 + 2) / 1100 × 100 = 0.9091; by reach 10 / 300 × 100 = 3.3333
        (
            "instagram",
            "B",
            None,
            8,
            2,
            None,
            300,
            1100,
            D("0.9091"),
            D("3.3333"),
            None,
            True,
            False,
        ),
        # C deleted, last seen at r1 with no insights: (50 + 10) / 1000 × 100 = 6
        ("instagram", "C", 50, 10, None, None, None, 1000, D("6.0000"), None, None, False, True),
        # V1 at t2: (500 + 50 + 50) / 5000 × 100 = 12; by views 600 / 12000 × 100 = 5
        (
            "tiktok",
            "V1",
            500,
            50,
            50,
            12000,
            None,
            5000,
            D("12.0000"),
            None,
            D("5.0000"),
            False,
            False,
        ),
        # V2 at t1: 100 / 5000 × 100 = 2; not found without a complete listing: not deleted
        ("tiktok", "V2", 100, 0, 0, 2000, None, 5000, D("2.0000"), None, D("5.0000"), False, False),
    ]
    assert influencers == [
        # followers from the latest snapshot (2000); median/mean of A and B = (18.1818 + 0.9091) / 2
        ("instagram", IG, "hand.made", 2000, 3, D("9.5455"), D("9.5455")),
        ("tiktok", TT, "Hand Made", 5000, 2, D("7.0000"), D("7.0000")),
    ]
    # latest capture only (r2): 300/1000, 600/1000, 100/1000 and 700/1000, 250/1000, 50/1000
    assert [(d, s, float(v)) for d, s, v in audience] == [
        ("age", "18-24", 0.3),
        ("age", "25-34", 0.6),
        ("age", "35-44", 0.1),
        ("gender", "F", 0.7),
        ("gender", "M", 0.25),
        ("gender", "U", 0.05),
    ]
    # the brand-metric endpoints (daily, interests, quality, posts, scorecard, fit) read this gold
    check_brand_endpoints(pipeline_env, workspace_id, CREATORS)
