"""A small raw corpus for erasure tests: the person to erase, two other creators, and the
places a person shows up in other people's data.

- SUBJECT (Instagram, connected): profile, a media page with two posts, insights of one,
  demographics;
- OTHER (Instagram): profile and a media page whose caption mentions "@maria.silva" and
  "@maria.silva.fan" (another account, kept), a probe of that post carrying a comment by the
  subject and one mentioning them;
- a Business Discovery answer about the subject, filed under OTHER (the brand's node);
- TIKTOK: a creator on the other platform whose display name happens to equal the subject's
  username (someone else: kept);
- one envelope that is not valid JSON (rejected) naming the subject's account id.
"""

from __future__ import annotations

import json
from pathlib import Path

SUBJECT = "17841400000000777"
SUBJECT_NAME = "maria.silva"
SUBJECT_POSTS = ("17900000000000101", "17900000000000102")
OTHER = "17841400000000888"
OTHER_NAME = "joao.costa"
OTHER_POSTS = ("17900000000000201",)
TIKTOK = "-000ttmariasilva"

ROUND_1 = "2026-10-01T10:00:00+00:00"
ROUND_2 = "2026-10-02T10:00:00+00:00"


def envelope(platform, endpoint, account, at, body, round_id=None, object_id=None):
    return {
        "platform": platform,
        "endpoint": endpoint,
        "account_id": account,
        "object_id": object_id,
        "round_id": round_id,
        "fetched_at": at,
        "status": 200,
        "body": body,
    }


def profile(account, name, followers, at):
    body = {
        "user_id": account,
        "username": name,
        "followers_count": followers,
        "follows_count": 10,
        "media_count": 2,
        "id": account,
    }
    return envelope("instagram", "user", account, at, body, round_id=f"r:{account}:{at}")


def media(id_, ts, caption, likes, comments):
    return {
        "id": id_,
        "caption": caption,
        "media_type": "IMAGE",
        "media_product_type": "FEED",
        "timestamp": ts,
        "like_count": likes,
        "comments_count": comments,
        "permalink": f"https://www.instagram.com/p/{id_}/",
    }


def media_page(account, items, at):
    body = {"data": items, "paging": {"cursors": {"before": "b"}}}
    return envelope("instagram", "media", account, at, body, round_id=f"r:{account}:{at}")


def subject_envelopes() -> list[dict]:
    return [
        profile(SUBJECT, SUBJECT_NAME, 1000, ROUND_1),
        media_page(
            SUBJECT,
            [
                media(SUBJECT_POSTS[0], "2026-09-30T10:00:00+0000", "my day #fitness", 100, 10),
                media(SUBJECT_POSTS[1], "2026-09-29T10:00:00+0000", "beach #travel", 50, 5),
            ],
            ROUND_1,
        ),
        envelope(
            "instagram",
            "media_insights",
            SUBJECT,
            ROUND_1,
            {"data": [{"name": "reach", "period": "lifetime", "values": [{"value": 400}]}]},
            object_id=SUBJECT_POSTS[0],
        ),
        profile(SUBJECT, SUBJECT_NAME, 1100, ROUND_2),
    ]


def other_envelopes() -> list[dict]:
    comments = {
        "data": [
            {"id": "c1", "username": SUBJECT_NAME, "text": "lovely!"},
            {"id": "c2", "username": "ana.b", "text": "great shot @maria.silva"},
        ]
    }
    return [
        profile(OTHER, OTHER_NAME, 5000, ROUND_1),
        media_page(
            OTHER,
            [
                media(
                    OTHER_POSTS[0],
                    "2026-09-30T12:00:00+0000",
                    "with @maria.silva and @maria.silva.fan #travel",
                    300,
                    30,
                )
            ],
            ROUND_1,
        ),
        envelope(
            "instagram",
            "media_object",
            OTHER,
            ROUND_1,
            {"id": OTHER_POSTS[0], "comments": comments},
            object_id=OTHER_POSTS[0],
        ),
        envelope(
            "instagram",
            "user",
            OTHER,
            ROUND_2,
            {
                "business_discovery": {
                    "id": SUBJECT,
                    "username": SUBJECT_NAME,
                    "followers_count": 1100,
                    "media_count": 2,
                },
                "id": OTHER,
            },
        ),
        profile(OTHER, OTHER_NAME, 5100, ROUND_2),
    ]


def tiktok_envelopes() -> list[dict]:
    body = {
        "data": {
            "user": {
                "open_id": TIKTOK,
                "display_name": SUBJECT_NAME,  # same words, another person on another platform
                "follower_count": 700,
                "following_count": 3,
                "likes_count": 90,
                "video_count": 1,
            }
        },
        "error": {"code": "ok", "message": "", "log_id": "x"},
    }
    return [envelope("tiktok", "user_info", TIKTOK, ROUND_1, body, round_id="t1")]


REJECTED_LINE = '{"platform": "instagram", "endpoint": "user", "account_id": "' + SUBJECT + '", '


def write_corpus(path: Path, *, with_rejected: bool = True) -> Path:
    lines = [json.dumps(e) for e in subject_envelopes() + other_envelopes() + tiktok_envelopes()]
    if with_rejected:
        lines.append(REJECTED_LINE)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
