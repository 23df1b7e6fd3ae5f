"""TikTok Display API v2 (open.tiktokapis.com): user info, video list, video query.

Each call answers one request with a Reply while holding the world lock. Shapes, codes and
messages follow the platform's documentation (see PLATFORM_SAMPLES.md in the design notes).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import timedelta

from sandbox.auth import AuthFailure, TokenGrant
from sandbox.replies import Reply, bearer
from sandbox.tiktok.answers import TikTokAnswers
from sandbox.world import Account, SandboxWorld, TikTokVideo

MINUTE = timedelta(minutes=1)
MAX_VIDEOS = 20
DEFAULT_VIDEOS = 10

# Field -> the scope it needs.
USER_FIELDS = {
    "open_id": "user.info.basic",
    "union_id": "user.info.basic",
    "avatar_url": "user.info.basic",
    "avatar_url_100": "user.info.basic",
    "avatar_large_url": "user.info.basic",
    "display_name": "user.info.basic",
    "bio_description": "user.info.profile",
    "profile_deep_link": "user.info.profile",
    "is_verified": "user.info.profile",
    "username": "user.info.profile",
    "follower_count": "user.info.stats",
    "following_count": "user.info.stats",
    "likes_count": "user.info.stats",
    "video_count": "user.info.stats",
}
VIDEO_FIELDS = frozenset(
    {
        "id",
        "create_time",
        "cover_image_url",
        "share_url",
        "video_description",
        "duration",
        "height",
        "width",
        "title",
        "embed_html",
        "embed_link",
        "like_count",
        "comment_count",
        "share_count",
        "view_count",
    }
)
# (method, path) -> the catalog endpoint it is.
_ROUTES = {
    ("GET", "/v2/user/info/"): "user_info",
    ("POST", "/v2/video/list/"): "video_list",
    ("POST", "/v2/video/query/"): "video_query",
}
_CDN = "https://p16-sign.tiktokcdn-us.com"


def _ms(video: TikTokVideo) -> int:
    return int(video.create_time.timestamp()) * 1000


class TikTokApi:
    def __init__(self, world: SandboxWorld, answers: TikTokAnswers) -> None:
        self.world = world
        self.answers = answers

    def api(
        self,
        method: str,
        path: str,
        query: Mapping[str, str],
        authorization: str | None,
        body: bytes,
    ) -> Reply:
        """Any call on the API host: token, faults and the per-token rate window, then the work."""
        w, answers = self.world, self.answers
        with w.lock:
            now = w.now()
            norm = "/" + path.strip("/") + "/"
            endpoint = _ROUTES.get((method, norm))
            if endpoint is None:
                if any(p == norm for _, p in _ROUTES):
                    return answers.answer(
                        405, {}, "invalid_params", f"Method {method} not allowed."
                    )
                return answers.answer(404, {}, "invalid_params", f"Unknown endpoint {norm}.")
            try:
                grant = w.auth.lookup("tiktok", bearer(authorization), ("access",), now)
            except AuthFailure:
                return answers.token_invalid()
            fault = w.take_fault("tiktok", endpoint, grant.account_id)
            if fault in ("throttle", "account_throttle"):
                return answers.rate_limited()
            if fault == "permission":
                return answers.scope_missing("video.list")
            if fault == "missing":
                return answers.invalid("The requested object does not exist.")
            if fault == "token_expired":
                return answers.token_invalid()
            if fault == "server_error":
                return answers.server_error()
            key = ("tt", grant.token, endpoint)
            if w.limits.count(key, now, MINUTE) >= w.config.tiktok_requests_per_minute:
                return answers.rate_limited()
            w.limits.hit(key, now)
            handlers: dict[str, Callable[[], Reply]] = {
                "user_info": lambda: self._user_info(grant, query),
                "video_list": lambda: self._video_list(grant, query, body),
                "video_query": lambda: self._video_query(grant, query, body),
            }
            reply = handlers[endpoint]()
            if fault == "truncated_json":
                reply = Reply(200, reply.text[: len(reply.text) // 2], dict(reply.headers))
            return reply

    def _fields(self, query: Mapping[str, str], allowed) -> list[str] | Reply:
        fields = [f.strip() for f in query.get("fields", "").split(",") if f.strip()]
        if not fields:
            return self.answers.invalid("The fields parameter is required.")
        unknown = [f for f in fields if f not in allowed]
        if unknown:
            return self.answers.invalid(f"Invalid fields: {','.join(unknown)}")
        return list(dict.fromkeys(fields))

    def _json_body(self, body: bytes) -> dict | Reply:
        if not body:
            return {}
        try:
            parsed = json.loads(body)
        except ValueError:
            return self.answers.invalid("The request body is not valid JSON.")
        if not isinstance(parsed, dict):
            return self.answers.invalid("The request body must be a JSON object.")
        return parsed

    def _user_info(self, grant: TokenGrant, query: Mapping[str, str]) -> Reply:
        fields = self._fields(query, USER_FIELDS)
        if isinstance(fields, Reply):
            return fields
        for name in fields:
            if USER_FIELDS[name] not in grant.scopes:
                return self.answers.scope_missing(USER_FIELDS[name])
        account = self.world.account("tiktok", grant.account_id)
        assert account is not None
        avatar = f"{_CDN}/tos-avt/{account.union_id}.jpeg"
        values = {
            "open_id": account.account_id,
            "union_id": account.union_id,
            "avatar_url": avatar,
            "avatar_url_100": avatar + "?size=100",
            "avatar_large_url": avatar + "?size=large",
            "display_name": account.name,
            "bio_description": account.bio,
            "profile_deep_link": f"https://vm.tiktok.com/{account.union_id[:9]}/",
            "is_verified": account.verified,
            "username": account.username,
            "follower_count": account.followers,
            "following_count": account.following,
            "likes_count": account.likes,
            "video_count": account.posts,
        }
        return self.answers.answer(200, {"user": {name: values[name] for name in fields}})

    @staticmethod
    def _render(video: TikTokVideo, account: Account, fields: list[str]) -> dict:
        share = f"https://www.tiktok.com/@{account.username}/video/{video.video_id}"
        values = {
            "id": video.video_id,
            "create_time": int(video.create_time.timestamp()),
            "cover_image_url": f"{_CDN}/obj/{video.video_id}.jpeg",
            "share_url": share,
            "video_description": video.video_description,
            "duration": video.duration,
            "height": 1920,
            "width": 1080,
            "title": video.title,
            "embed_html": f'<blockquote class="tiktok-embed" cite="{share}"></blockquote>',
            "embed_link": f"https://www.tiktok.com/player/v1/{video.video_id}",
            "like_count": video.like_count,
            "comment_count": video.comment_count,
            "share_count": video.share_count,
            "view_count": video.view_count,
        }
        return {name: values[name] for name in fields}

    def _video_list(self, grant: TokenGrant, query: Mapping[str, str], body: bytes) -> Reply:
        fields = self._fields(query, VIDEO_FIELDS)
        if isinstance(fields, Reply):
            return fields
        request = self._json_body(body)
        if isinstance(request, Reply):
            return request
        max_count = request.get("max_count", DEFAULT_VIDEOS)
        cursor = request.get("cursor")
        if (
            not isinstance(max_count, int)
            or isinstance(max_count, bool)
            or not 1 <= max_count <= MAX_VIDEOS
        ):
            return self.answers.invalid(f"max_count must be an integer between 1 and {MAX_VIDEOS}.")
        if cursor is not None and (
            not isinstance(cursor, int) or isinstance(cursor, bool) or cursor < 0
        ):
            return self.answers.invalid("cursor must be a non-negative integer (milliseconds).")
        if "video.list" not in grant.scopes:
            return self.answers.scope_missing("video.list")
        account = self.world.account("tiktok", grant.account_id)
        assert account is not None
        videos = self.world.live_posts("tiktok", grant.account_id)
        if cursor:
            # Exclusive: the cursor is the create_time of the last video already returned.
            videos = [v for v in videos if _ms(v) < cursor]
        page = videos[:max_count]
        data = {
            "videos": [self._render(v, account, fields) for v in page],
            "cursor": _ms(page[-1]) if page else (cursor or 0),
            "has_more": len(videos) > len(page),
        }
        return self.answers.answer(200, data)

    def _video_query(self, grant: TokenGrant, query: Mapping[str, str], body: bytes) -> Reply:
        fields = self._fields(query, VIDEO_FIELDS)
        if isinstance(fields, Reply):
            return fields
        request = self._json_body(body)
        if isinstance(request, Reply):
            return request
        filters = request.get("filters")
        ids = filters.get("video_ids") if isinstance(filters, dict) else None
        if (
            not isinstance(ids, list)
            or not 1 <= len(ids) <= MAX_VIDEOS
            or not all(isinstance(i, str) for i in ids)
        ):
            return self.answers.invalid(
                f"filters.video_ids must be a list of 1 to {MAX_VIDEOS} video id strings."
            )
        if "video.list" not in grant.scopes:
            return self.answers.scope_missing("video.list")
        account = self.world.account("tiktok", grant.account_id)
        assert account is not None
        wanted = set(ids)
        # Deleted, unknown or other users' videos are simply absent.
        found = [
            v for v in self.world.live_posts("tiktok", grant.account_id) if v.video_id in wanted
        ]
        return self.answers.answer(
            200, {"videos": [self._render(v, account, fields) for v in found]}
        )
