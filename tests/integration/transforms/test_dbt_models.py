"""dbt on a small hand-made bronze: silver and gold hold the values worked out by hand below.

Three creators. Instagram A (ana.fit): two complete listing rounds, hidden likes, insights
captured before and after the listing, a post missing from the second complete listing and then
answered "not found" (deleted), followers that double after the last media capture, follower
demographics for every dimension. Instagram B (bruno.eats): a "not found" answer without a
complete listing (its second round has a malformed page: not a deletion), a duplicated profile
capture, a Business Discovery capture. TikTok T: a video missing from a complete listing and
absent from a video query (deleted).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import psycopg
import pytest

from connectors.bronze_writer import write_records
from connectors.records import RawRecord
from tests.integration.transforms.dbt_fixtures import dbt_output, run_dbt

IG_A, IG_B, TT = "17841400000000001", "17841400000000002", "-000OcTatiCooks"
A1, A2, A3, A4 = "17900000000000001", "17900000000000002", "17900000000000003", "17900000000000004"
B1, B2 = "17900000000000011", "17900000000000012"
V1, V2 = "7433000000000000001", "7433000000000000002"


def at(day: int, hms: str) -> datetime:
    h, m, s = (int(x) for x in hms.split(":"))
    return datetime(2026, 10, day, h, m, s, tzinfo=UTC)


def rec(
    platform,
    endpoint,
    account,
    round_id,
    fetched_at,
    body,
    status=200,
    object_id=None,
    request=None,
    source="collector",
) -> RawRecord:
    text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
    return RawRecord(
        platform=platform,
        endpoint=endpoint,
        account_id=account,
        round_id=round_id,
        fetched_at=fetched_at,
        status=status,
        body_text=text,
        object_id=object_id,
        request=request,
        source=source,
    )


def ig_profile(account, username, followers, follows, media_count, fetched_at, round_id):
    body = {
        "user_id": account,
        "username": username,
        "name": username.title(),
        "account_type": "MEDIA_CREATOR",
        "followers_count": followers,
        "follows_count": follows,
        "media_count": media_count,
        "id": "84123975" + account[-8:],
    }
    return rec(
        "instagram",
        "user",
        account,
        round_id,
        fetched_at,
        body,
        request="GET /v23.0/me?fields=user_id,username,followers_count",
    )


def ig_item(media_id, timestamp, comments, likes=None, media_type="IMAGE", caption=None):
    item = {
        "id": media_id,
        "caption": caption or f"Post {media_id[-2:]} #Fitness #vida",
        "media_type": media_type,
        "media_product_type": "REELS" if media_type == "VIDEO" else "FEED",
        "timestamp": timestamp,
        "comments_count": comments,
        "permalink": f"https://www.instagram.com/p/{media_id}/",
    }
    if likes is not None:  # absent when the owner hides likes
        item["like_count"] = likes
    return item


def ig_page(account, round_id, fetched_at, items, last):
    paging = {"cursors": {"before": "QVFIUkJ", "after": "QVFIUmF"}}
    if not last:
        paging["next"] = f"https://graph.instagram.com/v23.0/{account}/media?limit=2&after=QVFIUmF"
    return rec(
        "instagram",
        "media",
        account,
        round_id,
        fetched_at,
        {"data": items, "paging": paging},
        request=f"GET /v23.0/{account}/media?fields=id,caption,like_count&limit=2",
    )


def ig_insights(account, media_id, round_id, fetched_at, **metrics):
    data = [
        {
            "name": name,
            "period": "lifetime",
            "values": [{"value": value}],
            "title": name.title(),
            "id": f"{media_id}/insights/{name}/lifetime",
        }
        for name, value in metrics.items()
    ]
    return rec(
        "instagram",
        "media_insights",
        account,
        round_id,
        fetched_at,
        {"data": data},
        object_id=media_id,
    )


def ig_not_found(account, media_id, fetched_at, round_id):
    body = {
        "error": {
            "message": f"Unsupported get request. Object with ID '{media_id}' does not "
            "exist, cannot be loaded due to missing permissions, or does not support "
            "this operation.",
            "type": "GraphMethodException",
            "code": 100,
            "error_subcode": 33,
            "fbtrace_id": "AbC",
        }
    }
    return rec(
        "instagram",
        "media_object",
        account,
        round_id,
        fetched_at,
        body,
        status=400,
        object_id=media_id,
    )


def ig_demographics(account, round_id, fetched_at, keys, results):
    body = {
        "data": [
            {
                "name": "follower_demographics",
                "period": "lifetime",
                "title": "Follower demographics",
                "total_value": {
                    "breakdowns": [
                        {
                            "dimension_keys": keys,
                            "results": [
                                {"dimension_values": values, "value": value}
                                for values, value in results
                            ],
                        }
                    ]
                },
                "id": f"{account}/insights/follower_demographics/lifetime",
            }
        ]
    }
    return rec("instagram", "user_insights", account, round_id, fetched_at, body)


def tt_user(followers, following, likes, videos, fetched_at, round_id):
    body = {
        "data": {
            "user": {
                "open_id": TT,
                "display_name": "Tati Cooks",
                "follower_count": followers,
                "following_count": following,
                "likes_count": likes,
                "video_count": videos,
            }
        },
        "error": {"code": "ok", "message": "", "log_id": "20261001"},
    }
    return rec("tiktok", "user_info", TT, round_id, fetched_at, body)


def tt_video(video_id, create_time, likes, comments, shares, views):
    return {
        "id": video_id,
        "create_time": create_time,
        "title": "Receita rápida",
        "video_description": "Receita rápida #comida",
        "duration": 42,
        "like_count": likes,
        "comment_count": comments,
        "share_count": shares,
        "view_count": views,
    }


def tt_page(round_id, fetched_at, videos, has_more):
    body = {
        "data": {"videos": videos, "cursor": 1790000000000, "has_more": has_more},
        "error": {"code": "ok", "message": "", "log_id": "x"},
    }
    return rec(
        "tiktok",
        "video_list",
        TT,
        round_id,
        fetched_at,
        body,
        request="POST /v2/video/list/?fields=id,create_time,like_count",
    )


def tt_query(video_id, fetched_at, videos):
    body = {
        "data": {"videos": videos, "cursor": 0, "has_more": False},
        "error": {"code": "ok", "message": "", "log_id": "y"},
    }
    return rec(
        "tiktok",
        "video_query",
        TT,
        "t-probe",
        fetched_at,
        body,
        object_id=video_id,
        request="POST /v2/video/query/?fields=id,like_count",
    )


# 2026-09-27T00:00:00Z and 2026-09-28T00:00:00Z as epoch seconds
V1_CREATED, V2_CREATED = 1790467200, 1790553600


def bronze_records() -> list[RawRecord]:
    a_r1_page1 = ig_page(
        IG_A,
        "a-r1",
        at(1, "10:00:05"),
        [
            ig_item(A1, "2026-09-28T10:00:00+0000", comments=10, likes=100, media_type="VIDEO"),
            ig_item(A2, "2026-09-29T10:00:00+0000", comments=5),  # hidden likes
        ],
        last=False,
    )
    b_profile = ig_profile(IG_B, "bruno.eats", 80, 10, 2, at(1, "11:59:00"), "b-r1")
    return [
        # ---- Instagram A -------------------------------------------------------------------
        ig_profile(IG_A, "ana.fit", 1000, 100, 3, at(1, "09:59:00"), "a-r1"),
        a_r1_page1,
        a_r1_page1,  # the same response twice: bronze keeps one
        ig_page(
            IG_A,
            "a-r1",
            at(1, "10:00:06"),
            [
                ig_item(A3, "2026-09-30T10:00:00+0000", comments=0, likes=40),
            ],
            last=True,
        ),
        ig_insights(IG_A, A1, "a-r1", at(1, "10:00:10"), reach=500, shares=10, saved=3, views=900),
        ig_insights(IG_A, A2, "a-r1", at(1, "10:00:11"), reach=250, shares=5),
        # round 2 asks A1's insights before listing, A4's after
        ig_insights(IG_A, A1, "a-r2", at(2, "10:00:02"), reach=600, shares=15, saved=4, views=1000),
        ig_page(
            IG_A,
            "a-r2",
            at(2, "10:00:05"),
            [
                ig_item(A1, "2026-09-28T10:00:00+0000", comments=12, likes=120, media_type="VIDEO"),
                ig_item(A2, "2026-09-29T10:00:00+0000", comments=6),
            ],
            last=False,
        ),
        ig_page(
            IG_A,
            "a-r2",
            at(2, "10:00:06"),
            [  # A3 is gone from this complete listing
                ig_item(A4, "2026-10-01T20:00:00+0000", comments=3, likes=30),
            ],
            last=True,
        ),
        ig_insights(IG_A, A4, "a-r2", at(2, "10:00:12"), reach=100, shares=2, views=150),
        # A2: round 1's insights are earlier, but round 2's (asked after its listing) win
        ig_insights(IG_A, A2, "a-r2", at(2, "10:00:13"), reach=260, shares=7),
        ig_not_found(IG_A, A3, at(2, "11:00:00"), "a-probe"),
        # a later round's insights: after every listing capture and of another round, never used
        ig_insights(IG_A, A1, "a-r3", at(3, "10:05:00"), reach=9999, shares=999),
        ig_profile(IG_A, "ana.fit", 2000, 101, 3, at(3, "10:00:00"), "a-r3"),
        # demographics: an older age capture (superseded), then the latest of every dimension
        ig_demographics(
            IG_A, "a-r1", at(1, "10:01:00"), ["age"], [(["18-24"], 100), (["25-34"], 100)]
        ),
        ig_demographics(
            IG_A,
            "a-r2",
            at(2, "10:01:00"),
            ["age"],
            [(["18-24"], 300), (["25-34"], 500), (["35-44"], 200)],
        ),
        ig_demographics(
            IG_A, "a-r2", at(2, "10:01:01"), ["gender"], [(["F"], 600), (["M"], 350), (["U"], 50)]
        ),
        ig_demographics(
            IG_A,
            "a-r2",
            at(2, "10:01:02"),
            ["age", "gender"],
            [(["18-24", "F"], 100), (["25-34", "F"], 100), (["25-34", "M"], 100)],
        ),
        ig_demographics(
            IG_A, "a-r2", at(2, "10:01:03"), ["country"], [(["BR"], 700), (["PT"], 300)]
        ),
        ig_demographics(
            IG_A,
            "a-r2",
            at(2, "10:01:04"),
            ["city"],
            [(["São Paulo, São Paulo State"], 400), (["Lisboa, Lisboa"], 100)],
        ),
        # ---- Instagram B -------------------------------------------------------------------
        b_profile,
        # the same capture replayed under another round: two bronze rows, one snapshot
        rec("instagram", "user", IG_B, "b-r1-replay", b_profile.fetched_at, b_profile.body_text),
        ig_page(
            IG_B,
            "b-r1",
            at(1, "12:00:05"),
            [
                ig_item(B1, "2026-09-25T09:00:00+0000", comments=4, likes=20),
                ig_item(B2, "2026-09-26T09:00:00+0000", comments=2, likes=10),
            ],
            last=True,
        ),
        ig_insights(IG_B, B1, "b-r1", at(1, "12:00:10"), reach=60, shares=1),
        ig_demographics(IG_B, "b-r1", at(1, "12:01:00"), ["age"], []),  # below 100 followers
        rec("instagram", "user_insights", IG_B, "b-r1", at(1, "12:01:01"), {"data": []}),
        # a profile answer without any id: quarantined, not a snapshot
        rec(
            "instagram",
            "user",
            IG_B,
            "b-r2",
            at(2, "11:59:00"),
            {"username": "bruno.eats", "followers_count": 81},
        ),
        ig_page(
            IG_B,
            "b-r2",
            at(2, "12:00:05"),
            [
                ig_item(B1, "2026-09-25T09:00:00+0000", comments=4, likes=22),
            ],
            last=False,
        ),
        # the second page is cut off: the round is incomplete, B2's absence proves nothing
        rec(
            "instagram",
            "media",
            IG_B,
            "b-r2",
            at(2, "12:00:06"),
            '{"data": [{"id": "17900000000000012", "caption": "Pão',
        ),
        ig_not_found(IG_B, B2, at(2, "13:00:00"), "b-probe"),
        rec(
            "instagram",
            "media_object",
            IG_B,
            "b-probe",
            at(2, "13:00:01"),  # throttled
            {
                "error": {
                    "message": "Application request limit reached",
                    "type": "OAuthException",
                    "code": 4,
                    "fbtrace_id": "x",
                }
            },
            status=400,
            object_id=B1,
        ),
        # Business Discovery through A's account: public counts and media of B
        rec(
            "instagram",
            "user",
            IG_B,
            "b-bd",
            at(3, "12:00:00"),
            {
                "business_discovery": {
                    "followers_count": 95,
                    "media_count": 2,
                    "id": IG_B,
                    "media": {
                        "data": [
                            {
                                "id": B1,
                                "timestamp": "2026-09-25T09:00:00+0000",
                                "like_count": 25,
                                "comments_count": 4,
                                "media_type": "IMAGE",
                                "caption": "Pão de queijo #receita",
                            }
                        ],
                        "paging": {"cursors": {"after": "QVFI"}},
                    },
                },
                "id": IG_A,
            },
            request=f"GET /v23.0/{IG_A}?fields=business_discovery.username(bruno.eats)"
            "{followers_count,media_count,media{id,timestamp,like_count,comments_count}}",
        ),
        # ---- TikTok T ----------------------------------------------------------------------
        tt_user(10000, 50, 500000, 2, at(1, "08:00:00"), "t-r1"),
        tt_page("t-r1", at(1, "08:00:05"), [tt_video(V1, V1_CREATED, 1000, 100, 50, 20000)], True),
        tt_page("t-r1", at(1, "08:00:06"), [tt_video(V2, V2_CREATED, 300, 30, 0, 0)], False),
        tt_page("t-r2", at(2, "08:00:05"), [tt_video(V1, V1_CREATED, 1100, 110, 60, 22000)], False),
        tt_query(V2, at(2, "09:00:00"), []),
        tt_query(V1, at(2, "09:00:01"), [tt_video(V1, V1_CREATED, 1100, 110, 60, 22000)]),
        rec(
            "tiktok",
            "user_info",
            TT,
            "t-r2",
            at(2, "08:00:00"),  # 200 without data.user
            {"data": {}, "error": {"code": "ok", "message": "", "log_id": "z"}},
        ),
        tt_user(12000, 51, 520000, 1, at(3, "08:00:00"), "t-r3"),
    ]


def rows(conn, query: str) -> list[tuple]:
    return conn.execute(query).fetchall()


D = Decimal


def test_dbt_parse(tmp_path):
    result = run_dbt(["parse"], "postgresql://postgres@127.0.0.1:5432/unused", tmp_path)
    assert result.returncode == 0, dbt_output(result)
    assert (tmp_path / "target" / "manifest.json").exists()


@pytest.mark.timeout(180)
def test_dbt_build_gives_hand_computed_silver_and_gold(db_url, tmp_path):
    records = bronze_records()
    with psycopg.connect(db_url) as conn:
        stored = write_records(conn, records)
    assert stored == len(records) - 1  # the repeated page is stored once

    result = run_dbt(["build"], db_url, tmp_path)
    assert result.returncode == 0, dbt_output(result)

    with psycopg.connect(db_url) as conn:
        posts = rows(
            conn,
            """
            select platform, account_id, post_id, likes, comments, shares, views, reach,
                   followers_at_capture, engagement_rate_followers, engagement_rate_reach,
                   engagement_rate_views, likes_hidden, is_deleted, deleted_at, captured_at
            from gold.fct_post_engagement order by platform, post_id""",
        )
        influencers = rows(
            conn,
            """
            select platform, account_id, username, followers, posts_count,
                   median_engagement_rate, mean_engagement_rate, posts_collected, captured_at
            from gold.dim_influencers order by platform, account_id""",
        )
        segments = rows(
            conn,
            """
            select account_id, dimension, segment, share, followers_in_segment, captured_at
            from gold.audience_segments order by account_id, dimension, segment""",
        )
        share_sums = rows(
            conn,
            """
            select dimension, sum(share) from gold.audience_segments
            group by dimension order by dimension""",
        )
        quarantined = rows(
            conn,
            """
            select platform, endpoint, account_id, reason from silver.quarantine_records
            order by platform, endpoint, account_id""",
        )
        account_snapshots = rows(
            conn,
            """
            select platform, account_id, followers, snapshot_source, captured_at
            from silver.int_account_snapshots order by platform, account_id, captured_at""",
        )
        a4_snapshot = rows(
            conn,
            f"""
            select likes, comments, shares, views, reach, insights_captured_at
            from silver.int_post_snapshots where post_id = '{A4}'""",
        )
        v1_posted_at = rows(
            conn, f"select posted_at from gold.fct_post_engagement where post_id = '{V1}'"
        )

    # fmt: off
    assert posts == [
        # (platform, account, post, likes, comments, shares, views, reach,
        #  followers_at_capture, rate by followers, by reach, by views,
        #  likes_hidden, is_deleted, deleted_at, captured_at)
        #
        # A1 latest capture 10-02 10:00:05 (likes 120, comments 12) with round 2's insights taken
        # just before the listing (shares 15, views 1000, reach 600), not round 3's later ones;
        # followers in force: 1000 (the 2000 of 10-03 is later). 120 + 12 + 15 = 147 →
        # 147/1000 = 14.7000 %, 147/600 = 24.5000 %, 147/1000 = 14.7000 %
        ("instagram", IG_A, A1, 120, 12, 15, 1000, 600,
         1000, D("14.7000"), D("24.5000"), D("14.7000"), False, False, None, at(2, "10:00:05")),
        # A2 hidden likes: comments 6 + shares 7 (round 2's insights, asked after its listing,
        # beat round 1's earlier ones) = 13 → 13/1000 = 1.3000 %, 13/260 = 5.0000 %, no views
        ("instagram", IG_A, A2, None, 6, 7, None, 260,
         1000, D("1.3000"), D("5.0000"), None, True, False, None, at(2, "10:00:05")),
        # A3 deleted: absent from complete round 2 (started 10-02 10:00:05 > last seen
        # 10-01 10:00:06), not found at 10-02 11:00 ≥ round end. No insights: shares null.
        # 40 + 0 = 40 → 40/1000 = 4.0000 %
        ("instagram", IG_A, A3, 40, 0, None, None, None,
         1000, D("4.0000"), None, None, False, True, at(2, "11:00:00"), at(1, "10:00:06")),
        # A4: no insights before its listing, so the later ones of the same round (10:00:12):
        # 30 + 3 + 2 = 35 → 35/1000 = 3.5000 %, 35/100 = 35.0000 %, 35/150 = 23.3333 %
        ("instagram", IG_A, A4, 30, 3, 2, 150, 100,
         1000, D("3.5000"), D("35.0000"), D("23.3333"), False, False, None, at(2, "10:00:06")),
        # B1 latest capture = the Business Discovery answer (10-03 12:00): likes 25, comments 4,
        # insights of 10-01 (shares 1, reach 60); followers from that same answer (95, captured
        # at the same instant). 25 + 4 + 1 = 30 → 30/95 = 31.578947… → 31.5789 %, 30/60 = 50 %
        ("instagram", IG_B, B1, 25, 4, 1, None, 60,
         95, D("31.5789"), D("50.0000"), None, False, False, None, at(3, "12:00:00")),
        # B2: not found at 10-02 13:00, but B's only later round is incomplete: NOT deleted.
        # 10 + 2 = 12 → 12/80 = 15.0000 % (followers of 10-01 11:59)
        ("instagram", IG_B, B2, 10, 2, None, None, None,
         80, D("15.0000"), None, None, False, False, None, at(1, "12:00:05")),
        # V1 at 10-02: 1100 + 110 + 60 = 1270 → 1270/10000 = 12.7000 %, 1270/22000 = 5.772727… %
        ("tiktok", TT, V1, 1100, 110, 60, 22000, None,
         10000, D("12.7000"), None, D("5.7727"), False, False, None, at(2, "08:00:05")),
        # V2 deleted: absent from complete round t-r2, video query without it at 10-02 09:00.
        # 300 + 30 + 0 = 330 → 330/10000 = 3.3000 %; views 0 → null
        ("tiktok", TT, V2, 300, 30, 0, 0, None,
         10000, D("3.3000"), None, None, False, True, at(2, "09:00:00"), at(1, "08:00:06")),
    ]
    # fmt: on

    assert influencers == [
        # A: latest snapshot 10-03 (2000 followers, 3 posts). Non-deleted rates 14.7, 1.3, 3.5:
        # median 3.5000, mean 19.5 / 3 = 6.5000; 4 posts collected (A3 deleted included)
        ("instagram", IG_A, "ana.fit", 2000, 3, D("3.5000"), D("6.5000"), 4, at(3, "10:00:00")),
        # B: latest = Business Discovery (95 followers; username from the request). Rates 31.5789
        # and 15.0000: median = mean = 46.5789 / 2 = 23.28945 → 23.2895
        ("instagram", IG_B, "bruno.eats", 95, 2, D("23.2895"), D("23.2895"), 2, at(3, "12:00:00")),
        # T: latest 10-03 (12000 followers, 1 video); only V1 counts (V2 deleted): 12.7000
        ("tiktok", TT, "Tati Cooks", 12000, 1, D("12.7000"), D("12.7000"), 2, at(3, "08:00:00")),
    ]

    third = D("0.33333333333333333333")  # 100 / 300, as PostgreSQL divides numerics (20 places)
    captured = {
        "age": at(2, "10:01:00"),
        "gender": at(2, "10:01:01"),
        "age_gender": at(2, "10:01:02"),
        "country": at(2, "10:01:03"),
        "city": at(2, "10:01:04"),
    }
    assert segments == [
        (IG_A, dim, seg, share, value, captured[dim])
        for dim, seg, share, value in [
            # age, latest capture only (the 10-01 one had 100/100): 300, 500, 200 of 1000
            ("age", "18-24", D("0.3"), 300),
            ("age", "25-34", D("0.5"), 500),
            ("age", "35-44", D("0.2"), 200),
            # ["age","gender"] → age_gender, "age|gender": 100 each of 300
            ("age_gender", "18-24|F", third, 100),
            ("age_gender", "25-34|F", third, 100),
            ("age_gender", "25-34|M", third, 100),
            # 400 and 100 of 500
            ("city", "Lisboa, Lisboa", D("0.2"), 100),
            ("city", "São Paulo, São Paulo State", D("0.8"), 400),
            # 700 and 300 of 1000
            ("country", "BR", D("0.7"), 700),
            ("country", "PT", D("0.3"), 300),
            # 600, 350, 50 of 1000
            ("gender", "F", D("0.6"), 600),
            ("gender", "M", D("0.35"), 350),
            ("gender", "U", D("0.05"), 50),
        ]
    ]
    # B has no results (below 100 followers): no rows. Shares sum to 1 (1/3 × 3 within 1e-19).
    for dimension, total in share_sums:
        assert abs(total - 1) < D("1e-18"), dimension

    assert quarantined == [
        ("instagram", "media", IG_B, "body is not valid JSON"),
        ("instagram", "user", IG_B, "user answer without id"),
        ("tiktok", "user_info", TT, "user info without data.user"),
    ]

    assert account_snapshots == [
        ("instagram", IG_A, 1000, "profile", at(1, "09:59:00")),
        ("instagram", IG_A, 2000, "profile", at(3, "10:00:00")),
        # the replayed 10-01 capture appears once; the id-less answer of 10-02 not at all
        ("instagram", IG_B, 80, "profile", at(1, "11:59:00")),
        ("instagram", IG_B, 95, "business_discovery", at(3, "12:00:00")),
        ("tiktok", TT, 10000, "user_info", at(1, "08:00:00")),
        ("tiktok", TT, 12000, "user_info", at(3, "08:00:00")),
    ]
    # A4's only snapshot took the insights captured after it in the same round
    assert a4_snapshot == [(30, 3, 2, 150, 100, at(2, "10:00:12"))]
    # TikTok create_time 1790467200 = 2026-09-27T00:00:00Z
    assert v1_posted_at == [(datetime(2026, 9, 27, tzinfo=UTC),)]
