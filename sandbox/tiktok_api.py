"""TikTok Login Kit and Display API v2, emulated over a SandboxWorld.

Shapes, codes and messages follow the platform's documentation (see PLATFORM_SAMPLES.md in the
design notes); each method answers one request with a Reply and holds the world lock meanwhile.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from sandbox.auth import TIKTOK_SCOPES, AuthFailure, TokenGrant
from sandbox.replies import Reply, add_query, bearer, json_reply
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
_ROUTES = {
    ("GET", "/v2/user/info/"): "user_info",
    ("POST", "/v2/video/list/"): "video_list",
    ("POST", "/v2/video/query/"): "video_query",
}


def _ms(video: TikTokVideo) -> int:
    return int(video.create_time.timestamp()) * 1000


class TikTokApi:
    def __init__(self, world: SandboxWorld) -> None:
        self.world = world
        self._log_ids = itertools.count(1)

    @property
    def cfg(self):
        return self.world.config

    def _log_id(self) -> str:
        return f"{self.world.now():%Y%m%d%H%M%S}{next(self._log_ids):020X}"

    def _answer(self, status: int, data: dict, code: str = "ok", message: str = "") -> Reply:
        body = {"data": data, "error": {"code": code, "message": message, "log_id": self._log_id()}}
        return json_reply(status, body)

    def _oauth_error(self, error: str, description: str, status: int = 400) -> Reply:
        body = {"error": error, "error_description": description, "log_id": self._log_id()}
        return json_reply(status, body)

    # --- OAuth --------------------------------------------------------------------------------

    def authorize(self, query: Mapping[str, str]) -> Reply:
        """The consent screen, auto-approved for the sandbox-only `login_as` account."""
        w = self.world
        with w.lock:
            if query.get("client_key") != self.cfg.tiktok_client_key:
                return self._oauth_error("invalid_client", "The client_key is not valid.")
            redirect_uri = query.get("redirect_uri")
            if not redirect_uri:
                return self._oauth_error("invalid_request", "redirect_uri is required.")
            if query.get("response_type") != "code":
                return self._oauth_error("invalid_request", "response_type must be code.")
            scopes = tuple(s for s in query.get("scope", "").split(",") if s)
            if not scopes or any(s not in TIKTOK_SCOPES for s in scopes):
                return self._oauth_error("invalid_scope", "The scope is missing or not valid.")
            challenge = query.get("code_challenge")
            method = query.get("code_challenge_method")
            if challenge and method != "S256":
                return self._oauth_error(
                    "invalid_request", "Only the S256 code_challenge_method is supported."
                )
            account = w.account_by_username("tiktok", query.get("login_as", ""))
            if account is None:
                return self._oauth_error(
                    "invalid_request", "Sandbox: login_as must name a TikTok sandbox account."
                )
            grant = w.auth.create_code(
                "tiktok",
                account.account_id,
                self.cfg.tiktok_client_key,
                redirect_uri,
                scopes,
                challenge or None,
                method if challenge else None,
                w.now(),
            )
            params = {"code": grant.code, "scopes": ",".join(scopes)}
            if query.get("state"):
                params["state"] = query["state"]
            return Reply(302, "", {"Location": add_query(redirect_uri, params)}, "text/plain")

    def token(self, form: Mapping[str, str]) -> Reply:
        """POST /v2/oauth/token/: code exchange and refresh (the refresh token rotates)."""
        w = self.world
        with w.lock:
            now = w.now()
            if (
                form.get("client_key") != self.cfg.tiktok_client_key
                or form.get("client_secret") != self.cfg.tiktok_client_secret
            ):
                return self._oauth_error("invalid_client", "Client key or secret is incorrect.")
            grant_type = form.get("grant_type")
            if grant_type == "authorization_code":
                if not form.get("code") or not form.get("redirect_uri"):
                    return self._oauth_error(
                        "invalid_request", "code and redirect_uri are required."
                    )
                try:
                    code = w.auth.redeem_code(
                        "tiktok", form["code"], form["redirect_uri"], form.get("code_verifier"), now
                    )
                except AuthFailure as failure:
                    messages = {
                        "code_unknown": "Authorization code is invalid.",
                        "code_used": "Authorization code has been used.",
                        "code_expired": "Authorization code is expired.",
                        "redirect_mismatch": "Redirect URI does not match the authorization "
                        "request.",
                        "verifier_invalid": "Code verifier is invalid.",
                    }
                    return self._oauth_error("invalid_grant", messages[failure.reason])
                access, refresh = w.auth.issue_tiktok(code.account_id, code.scopes, now)
                return self._token_body(access, refresh, now)
            if grant_type == "refresh_token":
                try:
                    old = w.auth.lookup("tiktok", form.get("refresh_token"), ("refresh",), now)
                except AuthFailure:
                    return self._oauth_error(
                        "invalid_grant", "Refresh token is invalid or expired."
                    )
                # Rotation: the old refresh token stops working the moment a new one is issued.
                old.revoked = True
                access, refresh = w.auth.issue_tiktok(old.account_id, old.scopes, now)
                return self._token_body(access, refresh, now)
            return self._oauth_error("unsupported_grant_type", "The grant_type is not supported.")

    @staticmethod
    def _token_body(access: TokenGrant, refresh: TokenGrant, now: datetime) -> Reply:
        body = {
            "open_id": access.account_id,
            "scope": ",".join(access.scopes),
            "access_token": access.token,
            "expires_in": int((access.expires_at - now).total_seconds()),
            "refresh_token": refresh.token,
            "refresh_expires_in": int((refresh.expires_at - now).total_seconds()),
            "token_type": "Bearer",
        }
        return json_reply(200, body)

    # --- the API host -------------------------------------------------------------------------

    def api(
        self,
        method: str,
        path: str,
        query: Mapping[str, str],
        authorization: str | None,
        body: bytes,
    ) -> Reply:
        w = self.world
        with w.lock:
            now = w.now()
            norm = "/" + path.strip("/") + "/"
            endpoint = _ROUTES.get((method, norm))
            if endpoint is None:
                if any(p == norm for _, p in _ROUTES):
                    return self._answer(405, {}, "invalid_params", f"Method {method} not allowed.")
                return self._answer(404, {}, "invalid_params", f"Unknown endpoint {norm}.")
            token = bearer(authorization)
            try:
                grant = w.auth.lookup("tiktok", token, ("access",), now)
            except AuthFailure:
                return self._token_invalid()
            fault = w.take_fault("tiktok", endpoint, grant.account_id)
            if fault == "throttle":
                return self._rate_limited()
            if fault == "token_expired":
                return self._token_invalid()
            if fault == "server_error":
                return self._answer(
                    500, {}, "internal_error", "Something went wrong. Please try again later."
                )
            key = ("tt", grant.token, endpoint)
            if w.limits.count(key, now, MINUTE) >= self.cfg.tiktok_requests_per_minute:
                return self._rate_limited()
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

    def _token_invalid(self) -> Reply:
        return self._answer(
            401,
            {},
            "access_token_invalid",
            "The access token is invalid or not found in the request.",
        )

    def _rate_limited(self) -> Reply:
        return self._answer(429, {}, "rate_limit_exceeded", "Rate limit exceeded")

    def _scope_missing(self, scope: str) -> Reply:
        return self._answer(
            401,
            {},
            "scope_not_authorized",
            f"The user did not authorize the scope required for completing this request ({scope}).",
        )

    def _invalid(self, message: str) -> Reply:
        return self._answer(400, {}, "invalid_params", message)

    def _fields(self, query: Mapping[str, str], allowed) -> list[str] | Reply:
        fields = [f.strip() for f in query.get("fields", "").split(",") if f.strip()]
        if not fields:
            return self._invalid("The fields parameter is required.")
        unknown = [f for f in fields if f not in allowed]
        if unknown:
            return self._invalid(f"Invalid fields: {','.join(unknown)}")
        return list(dict.fromkeys(fields))

    def _user_info(self, grant: TokenGrant, query: Mapping[str, str]) -> Reply:
        fields = self._fields(query, USER_FIELDS)
        if isinstance(fields, Reply):
            return fields
        for name in fields:
            if USER_FIELDS[name] not in grant.scopes:
                return self._scope_missing(USER_FIELDS[name])
        account = self.world.account("tiktok", grant.account_id)
        assert account is not None
        avatar = f"https://p16-sign.tiktokcdn-us.com/tos-avt/{account.union_id}.jpeg"
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
        return self._answer(200, {"user": {name: values[name] for name in fields}})

    def _render(self, video: TikTokVideo, account: Account, fields: list[str]) -> dict:
        share = f"https://www.tiktok.com/@{account.username}/video/{video.video_id}"
        embed = f"https://www.tiktok.com/player/v1/{video.video_id}"
        values = {
            "id": video.video_id,
            "create_time": int(video.create_time.timestamp()),
            "cover_image_url": f"https://p16-sign.tiktokcdn-us.com/obj/{video.video_id}.jpeg",
            "share_url": share,
            "video_description": video.video_description,
            "duration": video.duration,
            "height": 1920,
            "width": 1080,
            "title": video.title,
            "embed_html": f'<blockquote class="tiktok-embed" cite="{share}"></blockquote>',
            "embed_link": embed,
            "like_count": video.like_count,
            "comment_count": video.comment_count,
            "share_count": video.share_count,
            "view_count": video.view_count,
        }
        return {name: values[name] for name in fields}

    def _json_body(self, body: bytes) -> dict | Reply:
        if not body:
            return {}
        try:
            parsed = json.loads(body)
        except ValueError:
            return self._invalid("The request body is not valid JSON.")
        if not isinstance(parsed, dict):
            return self._invalid("The request body must be a JSON object.")
        return parsed

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
            return self._invalid(f"max_count must be an integer between 1 and {MAX_VIDEOS}.")
        if cursor is not None and (
            not isinstance(cursor, int) or isinstance(cursor, bool) or cursor < 0
        ):
            return self._invalid("cursor must be a non-negative integer (milliseconds).")
        if "video.list" not in grant.scopes:
            return self._scope_missing("video.list")
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
        return self._answer(200, data)

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
            return self._invalid(
                f"filters.video_ids must be a list of 1 to {MAX_VIDEOS} video id strings."
            )
        if "video.list" not in grant.scopes:
            return self._scope_missing("video.list")
        account = self.world.account("tiktok", grant.account_id)
        assert account is not None
        wanted = set(ids)
        # Deleted, unknown or other users' videos are simply absent.
        found = [
            v for v in self.world.live_posts("tiktok", grant.account_id) if v.video_id in wanted
        ]
        return self._answer(200, {"videos": [self._render(v, account, fields) for v in found]})
