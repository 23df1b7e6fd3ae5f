"""The Instagram API with Instagram Login, emulated over a SandboxWorld.

Shapes, codes and messages follow the platform's documentation (see PLATFORM_SAMPLES.md in the
design notes); each method answers one request with a Reply and holds the world lock meanwhile.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sandbox.auth import INSTAGRAM_REFRESH_MIN_AGE, INSTAGRAM_SCOPES, AuthFailure
from sandbox.replies import Reply, add_query, bearer, json_reply, without_query
from sandbox.world import (
    BREAKDOWNS,
    Account,
    InstagramMedia,
    SandboxWorld,
)

HOUR = timedelta(hours=1)
_VERSION = re.compile(r"v\d+\.\d+")
_TS = "%Y-%m-%dT%H:%M:%S+0000"
DEFAULT_PAGE = 25
MAX_PAGE = 100
THROTTLE_CODES_BUC = 80002
THROTTLE_CODE_APP = 4

USER_FIELDS = frozenset(
    {
        "id",
        "user_id",
        "username",
        "name",
        "account_type",
        "followers_count",
        "follows_count",
        "media_count",
        "profile_picture_url",
        "biography",
        "website",
    }
)
MEDIA_FIELDS = frozenset(
    {
        "id",
        "caption",
        "media_type",
        "media_product_type",
        "timestamp",
        "like_count",
        "comments_count",
        "permalink",
        "shortcode",
        "username",
        "media_url",
        "thumbnail_url",
        "is_comment_enabled",
        "owner",
    }
)
MEDIA_METRICS = {
    "reach": ("Reach", "The number of unique accounts that have seen the media."),
    "saved": ("Saved", "The number of saves of the media."),
    "shares": ("Shares", "The number of shares of the media."),
    "views": ("Views", "The number of times the media was played or displayed."),
    "total_interactions": (
        "Total interactions",
        "The number of likes, saves, comments and shares on the media, minus unlikes, unsaves "
        "and deleted comments.",
    ),
    "likes": ("Likes", "The number of likes on the media."),
    "comments": ("Comments", "The number of comments on the media."),
}
DEPRECATED_METRICS = frozenset(
    {
        "impressions",
        "plays",
        "video_views",
        "clips_replays_count",
        "ig_reels_aggregated_all_plays_count",
    }
)
BD_USER_FIELDS = frozenset(
    {
        "id",
        "ig_id",
        "username",
        "name",
        "biography",
        "website",
        "profile_picture_url",
        "followers_count",
        "follows_count",
        "media_count",
        "media",
    }
)
DEPRECATED_TIMEFRAMES = frozenset({"last_14_days", "last_30_days", "last_90_days", "prev_month"})


# --- the `fields` expansion syntax ------------------------------------------------------------


@dataclass
class FieldSpec:
    """One item of a Graph `fields` list: name.modifier(arg)...{children}."""

    name: str
    modifiers: dict[str, str]
    children: list[FieldSpec] | None = None


class FieldSyntaxError(ValueError):
    pass


def parse_fields(text: str) -> list[FieldSpec]:
    """Parse Graph field expansion, e.g. `business_discovery.username(x){media.limit(5){id}}`."""
    pos = 0

    def ident() -> str:
        nonlocal pos
        start = pos
        while pos < len(text) and (text[pos].isalnum() or text[pos] == "_"):
            pos += 1
        if start == pos:
            raise FieldSyntaxError(f"expected a field name at character {pos}")
        return text[start:pos]

    def item() -> FieldSpec:
        nonlocal pos
        spec = FieldSpec(ident(), {})
        while pos < len(text) and text[pos] == ".":
            pos += 1
            modifier = ident()
            if pos >= len(text) or text[pos] != "(":
                raise FieldSyntaxError(f"expected '(' at character {pos}")
            end = text.find(")", pos)
            if end < 0:
                raise FieldSyntaxError("unclosed '('")
            spec.modifiers[modifier] = text[pos + 1 : end]
            pos = end + 1
        if pos < len(text) and text[pos] == "{":
            pos += 1
            spec.children = items("}")
            pos += 1
        return spec

    def items(close: str | None) -> list[FieldSpec]:
        nonlocal pos
        found = []
        while True:
            while pos < len(text) and text[pos] == " ":
                pos += 1
            found.append(item())
            if pos < len(text) and text[pos] == ",":
                pos += 1
                continue
            if close is None and pos == len(text):
                return found
            if close is not None and pos < len(text) and text[pos] == close:
                return found
            raise FieldSyntaxError(f"unexpected character at {pos}")

    if not text.strip():
        return []
    return items(None)


# --- cursors ----------------------------------------------------------------------------------


def encode_cursor(media: InstagramMedia) -> str:
    """Opaque like the platform's ("QVFI..."); it encodes the boundary post's sort key."""
    raw = f"{int(media.timestamp.timestamp())}:{media.media_id}".encode()
    return "QVFI" + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, str]:
    if not cursor.startswith("QVFI"):
        raise ValueError("not a cursor")
    body = cursor[4:]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
        stamp, media_id = raw.split(":", 1)
        return int(stamp), media_id
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ValueError("not a cursor") from exc


def _key(media: InstagramMedia) -> tuple[int, str]:
    return int(media.timestamp.timestamp()), media.media_id


# --- errors -----------------------------------------------------------------------------------


def _trace() -> str:
    return "A" + secrets.token_urlsafe(16)


def graph_error(
    message: str,
    code: int,
    *,
    subcode: int | None = None,
    type_: str = "OAuthException",
    status: int = 400,
    transient: bool = False,
) -> Reply:
    error: dict = {"message": message, "type": type_, "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    if transient:
        error["is_transient"] = True
    error["fbtrace_id"] = _trace()
    return json_reply(status, {"error": error}, ascii_only=True)


def _missing_object(object_id: str) -> Reply:
    return graph_error(
        f"Unsupported get request. Object with ID '{object_id}' does not exist, cannot be loaded "
        "due to missing permissions, or does not support this operation. Please read the Graph "
        "API documentation at https://developers.facebook.com/docs/graph-api",
        100,
        subcode=33,
        type_="GraphMethodException",
    )


def _no_permission() -> Reply:
    return graph_error("(#10) Application does not have permission for this action", 10)


def _not_your_account() -> Reply:
    return graph_error("(#200) The app user has not granted access to this Instagram account", 200)


def _param_error(message: str) -> Reply:
    return graph_error(f"(#100) {message}", 100)


def _expired(expired_at: datetime, now: datetime) -> Reply:
    fmt = "%A, %d-%b-%y %H:%M:%S UTC"
    return graph_error(
        f"Error validating access token: Session has expired on {expired_at.strftime(fmt)}. "
        f"The current time is {now.strftime(fmt)}.",
        190,
        subcode=463,
    )


def _oauth_error(message: str, status: int = 400) -> Reply:
    """The api.instagram.com error shape, which differs from the Graph one."""
    body = {"error_type": "OAuthException", "code": status, "error_message": message}
    return json_reply(status, body, ascii_only=True)


@dataclass
class _Route:
    endpoint: str
    app_level: bool
    handler: Callable[[], Reply]


class InstagramApi:
    def __init__(self, world: SandboxWorld) -> None:
        self.world = world

    @property
    def cfg(self):
        return self.world.config

    # --- OAuth --------------------------------------------------------------------------------

    def authorize(self, query: Mapping[str, str]) -> Reply:
        """The consent screen, auto-approved for the sandbox-only `login_as` account."""
        w = self.world
        with w.lock:
            if query.get("client_id") != self.cfg.instagram_client_id:
                return _oauth_error("Invalid platform app")
            redirect_uri = query.get("redirect_uri")
            if not redirect_uri:
                return _oauth_error("Invalid redirect_uri")
            if query.get("response_type") != "code":
                return _oauth_error("Invalid response_type: only 'code' is supported")
            state = query.get("state")
            if not state:
                return _oauth_error("Missing state parameter")
            scopes = tuple(s for s in query.get("scope", "").split(",") if s) or (
                "instagram_business_basic",
            )
            unknown = [s for s in scopes if s not in INSTAGRAM_SCOPES]
            if unknown:
                return _oauth_error(f"Invalid Scopes: {', '.join(unknown)}")
            challenge = query.get("code_challenge")
            method = query.get("code_challenge_method")
            if challenge and method != "S256":
                return _oauth_error("Only the S256 code_challenge_method is supported")
            account = w.account_by_username("instagram", query.get("login_as", ""))
            if account is None:
                return _oauth_error("Sandbox: login_as must name an Instagram sandbox account")
            grant = w.auth.create_code(
                "instagram",
                account.account_id,
                self.cfg.instagram_client_id,
                redirect_uri,
                scopes,
                challenge or None,
                method if challenge else None,
                w.now(),
            )
            # The real redirect appends "#_" to the code; clients must drop the fragment.
            location = add_query(redirect_uri, {"code": grant.code, "state": state}, fragment="_")
            reply = Reply(302, "", {"Location": location}, content_type="text/plain")
            return reply

    def code_exchange(self, form: Mapping[str, str]) -> Reply:
        """POST api.instagram.com/oauth/access_token: the short-lived token."""
        w = self.world
        with w.lock:
            for name in ("client_id", "client_secret", "grant_type", "redirect_uri", "code"):
                if not form.get(name):
                    return self._app_usage(_oauth_error(f"Missing required field: {name}"), None)
            if form["client_id"] != self.cfg.instagram_client_id:
                return self._app_usage(_oauth_error("Invalid platform app"), None)
            if form["client_secret"] != self.cfg.instagram_client_secret:
                return self._app_usage(_oauth_error("Error validating client secret."), None)
            if form["grant_type"] != "authorization_code":
                return self._app_usage(_oauth_error("Unsupported grant_type"), None)
            now = w.now()
            try:
                grant = w.auth.redeem_code(
                    "instagram", form["code"], form["redirect_uri"], form.get("code_verifier"), now
                )
            except AuthFailure as failure:
                messages = {
                    "code_unknown": "Matching code was not found or was already used",
                    "code_used": "Matching code was not found or was already used",
                    "code_expired": "This authorization code has expired.",
                    "redirect_mismatch": "Error validating verification code. Please make sure "
                    "your redirect_uri is identical to the one you used in the OAuth dialog "
                    "request",
                    "verifier_invalid": "Invalid code_verifier",
                }
                return self._app_usage(_oauth_error(messages[failure.reason]), None)
            token = w.auth.issue_instagram(grant.account_id, grant.scopes, now, long_lived=False)
            # Both documented shapes occur in the wild; alternate so clients handle each.
            flat = w.auth.instagram_code_exchanges % 2 == 1
            w.auth.instagram_code_exchanges += 1
            if flat:
                body: dict = {
                    "access_token": token.token,
                    "user_id": int(grant.account_id),
                    "permissions": list(grant.scopes),
                }
            else:
                body = {
                    "data": [
                        {
                            "access_token": token.token,
                            "user_id": grant.account_id,
                            "permissions": ",".join(grant.scopes),
                        }
                    ]
                }
            return self._app_usage(json_reply(200, body, ascii_only=True), None)

    def _long_lived(self, query: Mapping[str, str], now: datetime) -> Reply:
        w = self.world
        if query.get("grant_type") != "ig_exchange_token":
            return _param_error("Unsupported grant_type; expected ig_exchange_token")
        if query.get("client_secret") != self.cfg.instagram_client_secret:
            return graph_error("Error validating client secret.", 1)
        try:
            short = w.auth.lookup("instagram", query.get("access_token"), ("short",), now)
        except AuthFailure as failure:
            return self._token_error(failure.reason, query.get("access_token"), now)
        token = w.auth.issue_instagram(short.account_id, short.scopes, now, long_lived=True)
        return self._token_body(token.expires_at, token.token, now)

    def _refresh(self, query: Mapping[str, str], now: datetime) -> Reply:
        w = self.world
        if query.get("grant_type") != "ig_refresh_token":
            return _param_error("Unsupported grant_type; expected ig_refresh_token")
        try:
            old = w.auth.lookup("instagram", query.get("access_token"), ("long",), now)
        except AuthFailure as failure:
            return self._token_error(failure.reason, query.get("access_token"), now)
        if now - old.issued_at < INSTAGRAM_REFRESH_MIN_AGE:
            return graph_error(
                "(#100) The access token can only be refreshed once it is at least 24 hours old",
                100,
            )
        token = w.auth.issue_instagram(old.account_id, old.scopes, now, long_lived=True)
        return self._token_body(token.expires_at, token.token, now)

    @staticmethod
    def _token_body(expires_at: datetime, token: str, now: datetime) -> Reply:
        expires_in = int((expires_at - now).total_seconds())
        body = {"access_token": token, "token_type": "bearer", "expires_in": expires_in}
        return json_reply(200, body, ascii_only=True)

    def _token_error(self, reason: str, token: str | None, now: datetime) -> Reply:
        if not token:
            return graph_error(
                "An active access token must be used to query information about the current user.",
                2500,
            )
        if reason == "token_expired":
            grant = self.world.auth.tokens[token]
            return _expired(grant.expires_at, now)
        return graph_error("Invalid OAuth access token - Cannot parse access token", 190)

    # --- the Graph host -----------------------------------------------------------------------

    def graph(
        self, path: str, query: Mapping[str, str], authorization: str | None, url: str
    ) -> Reply:
        """Any GET on graph.instagram.com, versioned or not."""
        w = self.world
        with w.lock:
            now = w.now()
            parts = [p for p in path.split("/") if p]
            if parts and _VERSION.fullmatch(parts[0]):
                parts = parts[1:]
            if parts == ["access_token"]:
                return self._app_usage(self._long_lived(query, now), None)
            if parts == ["refresh_access_token"]:
                return self._app_usage(self._refresh(query, now), None)
            token = query.get("access_token") or bearer(authorization)
            try:
                grant = w.auth.lookup("instagram", token, ("short", "long"), now)
            except AuthFailure as failure:
                return self._app_usage(self._token_error(failure.reason, token, now), None)
            account_id = grant.account_id
            route = self._route(parts, query, grant.account_id, grant.scopes, url)
            fault = w.take_fault("instagram", route.endpoint, account_id)
            if fault in ("throttle", "token_expired", "server_error"):
                return self._fault(fault, account_id, now)
            if route.app_level:
                key, limit, code = ("ig-app",), self.cfg.instagram_app_calls_per_hour, 4
            else:
                key, limit = ("ig-buc", account_id), self.cfg.instagram_buc_calls_per_hour
                code = THROTTLE_CODES_BUC
            blocked = w.limits.count(key, now, HOUR) >= limit
            # Calls made while blocked still count: they extend the block, as on the platform.
            w.limits.hit(key, now)
            reply = self._throttled(code) if blocked else route.handler()
            if fault == "truncated_json":
                reply = Reply(200, reply.text[: len(reply.text) // 2], dict(reply.headers))
            return self._usage(reply, account_id, now)

    def _route(
        self,
        parts: list[str],
        query: Mapping[str, str],
        token_account: str,
        scopes: tuple[str, ...],
        url: str,
    ) -> _Route:
        w = self.world
        if not parts:
            return _Route("user", False, lambda: _param_error("Unknown path components"))
        node = parts[0]
        if node == "me":
            account = w.account("instagram", token_account)
            path_id = account.app_scoped_id if account else node
        else:
            account = w.instagram_account_by_any_id(node)
            path_id = node
        media = None if account else w.post("instagram", node)
        edge = parts[1] if len(parts) > 1 else None
        if len(parts) > 2:
            return _Route("user", False, lambda: _param_error("Unknown path components"))
        insights_ok = "instagram_business_manage_insights" in scopes

        if account is not None:
            own = account.account_id == token_account
            if edge is None:
                try:
                    fields = parse_fields(query.get("fields", ""))
                except FieldSyntaxError as exc:
                    problem = _param_error(f"Syntax error: {exc}")
                    return _Route("user", False, lambda: problem)
                discovery = next((f for f in fields if f.name == "business_discovery"), None)
                if discovery is not None:
                    handler = (
                        (lambda: self._business_discovery(path_id, discovery, fields))
                        if own
                        else _not_your_account
                    )
                    return _Route("user", True, handler)
                return _Route(
                    "user",
                    False,
                    (lambda: self._profile(account, path_id, fields)) if own else _not_your_account,
                )
            if edge == "media":
                return _Route(
                    "media",
                    False,
                    (lambda: self._media_list(account, query, url)) if own else _not_your_account,
                )
            if edge == "insights":
                if not own:
                    return _Route("user_insights", False, _not_your_account)
                if not insights_ok:
                    return _Route("user_insights", False, _no_permission)
                return _Route(
                    "user_insights", False, lambda: self._user_insights(account, path_id, query)
                )
            return _Route("user", False, lambda: _param_error(f"Unknown path components: /{edge}"))

        endpoint = "media_insights" if edge == "insights" else "media_object"
        if not isinstance(media, InstagramMedia) or media.deleted:
            return _Route(endpoint, False, lambda: _missing_object(node))
        if media.account_id != token_account:
            return _Route(endpoint, False, _no_permission)
        if edge is None:
            return _Route(endpoint, False, lambda: self._media_object(media, query))
        if edge == "insights":
            if not insights_ok:
                return _Route(endpoint, False, _no_permission)
            return _Route(endpoint, False, lambda: self._media_insights(media, query))
        return _Route(endpoint, False, lambda: _param_error(f"Unknown path components: /{edge}"))

    # --- handlers -----------------------------------------------------------------------------

    def _profile(self, account: Account, path_id: str, fields: list[FieldSpec]) -> Reply:
        values = {
            "user_id": account.account_id,
            "username": account.username,
            "name": account.name,
            "account_type": account.account_type,
            "followers_count": account.followers,
            "follows_count": account.following,
            "media_count": account.posts,
            "profile_picture_url": f"https://scontent.cdninstagram.com/v/t51/{account.account_id}.jpg",
            "biography": account.bio,
            "website": f"https://linktr.ee/{account.username}",
            "id": path_id,
        }
        body: dict = {}
        for spec in fields:
            if spec.name not in USER_FIELDS:
                return _nonexisting(spec.name, "User")
            body[spec.name] = values[spec.name]
        body["id"] = path_id
        return json_reply(200, body, ascii_only=True)

    def _render_media(self, media: InstagramMedia, fields: list[FieldSpec]) -> dict | Reply:
        username = None
        out: dict = {}
        for spec in fields:
            name = spec.name
            if name not in MEDIA_FIELDS:
                return _nonexisting(name, "Media")
            if name == "caption":
                if media.caption is not None:
                    out[name] = media.caption
            elif name == "like_count":
                # Hidden likes: the field is absent, not zero.
                if not media.likes_hidden:
                    out[name] = media.like_count
            elif name == "timestamp":
                out[name] = media.timestamp.strftime(_TS)
            elif name == "thumbnail_url":
                if media.media_type == "VIDEO":
                    out[name] = f"https://scontent.cdninstagram.com/v/t51/{media.media_id}.jpg"
            elif name == "media_url":
                ext = "mp4" if media.media_type == "VIDEO" else "jpg"
                out[name] = f"https://scontent.cdninstagram.com/v/t51/{media.media_id}.{ext}"
            elif name == "username":
                if username is None:
                    owner = self.world.account("instagram", media.account_id)
                    username = owner.username if owner else ""
                out[name] = username
            elif name == "owner":
                out[name] = {"id": media.account_id}
            elif name == "is_comment_enabled":
                out[name] = True
            elif name == "id":
                out[name] = media.media_id
            else:
                out[name] = getattr(media, name)
        out.setdefault("id", media.media_id)
        return out

    def _page(
        self,
        account: Account,
        fields: list[FieldSpec],
        limit_text: str | None,
        after: str | None,
        before: str | None,
    ) -> tuple[list[dict], list[InstagramMedia], bool, bool] | Reply:
        """One page of media: rendered items, the posts, whether older and newer ones exist."""
        try:
            limit = DEFAULT_PAGE if limit_text in (None, "") else int(limit_text)
        except ValueError:
            return _param_error("Param limit must be a number")
        if limit < 1:
            return _param_error("Param limit must be a positive number")
        limit = min(limit, MAX_PAGE)
        posts = [p for p in self.world.live_posts("instagram", account.account_id)]
        try:
            if after:
                mark = decode_cursor(after)
                posts_after = [p for p in posts if _key(p) < mark]
                page = posts_after[:limit]
                newer = len(posts_after) < len(posts)
                older = len(posts_after) > limit
            elif before:
                mark = decode_cursor(before)
                posts_before = [p for p in posts if _key(p) > mark]
                page = posts_before[-limit:]
                newer = len(posts_before) > limit
                older = len(posts_before) < len(posts)
            else:
                page, newer, older = posts[:limit], False, len(posts) > limit
        except ValueError:
            return _param_error("Invalid cursor")
        items = []
        for media in page:
            rendered = self._render_media(media, fields or [FieldSpec("id", {})])
            if isinstance(rendered, Reply):
                return rendered
            items.append(rendered)
        return items, page, older, newer

    def _media_list(self, account: Account, query: Mapping[str, str], url: str) -> Reply:
        try:
            fields = parse_fields(query.get("fields", ""))
        except FieldSyntaxError as exc:
            return _param_error(f"Syntax error: {exc}")
        result = self._page(
            account, fields, query.get("limit"), query.get("after"), query.get("before")
        )
        if isinstance(result, Reply):
            return result
        items, page, older, newer = result
        body: dict = {"data": items}
        if page:
            first, last = encode_cursor(page[0]), encode_cursor(page[-1])
            paging: dict = {"cursors": {"before": first, "after": last}}
            base = without_query(url, "after", "before")
            if older:
                paging["next"] = add_query(base, {"after": last})
            if newer:
                paging["previous"] = add_query(base, {"before": first})
            body["paging"] = paging
        return json_reply(200, body, ascii_only=True)

    def _media_object(self, media: InstagramMedia, query: Mapping[str, str]) -> Reply:
        try:
            fields = parse_fields(query.get("fields", ""))
        except FieldSyntaxError as exc:
            return _param_error(f"Syntax error: {exc}")
        rendered = self._render_media(media, fields)
        if isinstance(rendered, Reply):
            return rendered
        return json_reply(200, rendered, ascii_only=True)

    def _media_insights(self, media: InstagramMedia, query: Mapping[str, str]) -> Reply:
        names = [m.strip() for m in query.get("metric", "").split(",") if m.strip()]
        if not names:
            return _param_error("The parameter metric is required")
        if query.get("period", "lifetime") != "lifetime":
            return _param_error("Incompatible period: media insights are lifetime only")
        for index, name in enumerate(names):
            if name in DEPRECATED_METRICS:
                return _param_error(
                    f"Starting from version v22.0 and above, the {name} metric is no longer "
                    "supported for media insights. Please use the views metric instead."
                )
            if name not in MEDIA_METRICS:
                return _param_error(
                    f"metric[{index}] must be one of the following values: "
                    + ", ".join(MEDIA_METRICS)
                )
        values = {
            "reach": media.reach,
            "saved": media.saved,
            "shares": media.shares,
            "views": media.views,
            "total_interactions": media.total_interactions,
            "likes": media.like_count,
            "comments": media.comments_count,
        }
        data = [
            {
                "name": name,
                "period": "lifetime",
                "values": [{"value": values[name]}],
                "title": MEDIA_METRICS[name][0],
                "description": MEDIA_METRICS[name][1],
                "id": f"{media.media_id}/insights/{name}/lifetime",
            }
            for name in dict.fromkeys(names)
        ]
        return json_reply(200, {"data": data}, ascii_only=True)

    def _user_insights(self, account: Account, path_id: str, query: Mapping[str, str]) -> Reply:
        metric = query.get("metric", "")
        if not metric:
            return _param_error("The parameter metric is required")
        if metric != "follower_demographics":
            return _param_error(
                "metric[0] must be one of the following values: follower_demographics"
            )
        if query.get("period") != "lifetime":
            return _param_error("Incompatible period: follower_demographics supports lifetime")
        if query.get("metric_type") != "total_value":
            return _param_error(
                "The following metrics (follower_demographics) should be specified with "
                "parameter metric_type=total_value"
            )
        timeframe = query.get("timeframe")
        if not timeframe:
            return _param_error("Param timeframe is required for the requested metrics")
        if timeframe in DEPRECATED_TIMEFRAMES:
            return _param_error(f"The timeframe {timeframe} is no longer supported")
        if timeframe not in ("this_month", "this_week"):
            return _param_error(
                "timeframe must be one of the following values: this_week, this_month"
            )
        breakdown = query.get("breakdown", "")
        if breakdown not in BREAKDOWNS:
            return _param_error(
                "breakdown must be one of the following values: age, gender, country, city"
            )
        rows = self.world.demographics(account.account_id, breakdown)
        results = [{"dimension_values": list(values), "value": n} for values, n in rows]
        body = {
            "data": [
                {
                    "name": "follower_demographics",
                    "period": "lifetime",
                    "title": "Follower demographics",
                    "description": "The demographic characteristics of followers, including "
                    "countries, cities and gender distribution.",
                    "total_value": {
                        "breakdowns": [{"dimension_keys": breakdown.split(","), "results": results}]
                    },
                    "id": f"{path_id}/insights/follower_demographics/lifetime",
                }
            ]
        }
        return json_reply(200, body, ascii_only=True)

    def _business_discovery(
        self, path_id: str, discovery: FieldSpec, fields: list[FieldSpec]
    ) -> Reply:
        username = discovery.modifiers.get("username")
        if not username:
            return _param_error("Missing username in business_discovery")
        target = self.world.account_by_username("instagram", username)
        if target is None:
            return graph_error("Invalid user id", 110, subcode=2207013)
        values = {
            "id": target.account_id,
            "ig_id": int(target.account_id[-10:]),
            "username": target.username,
            "name": target.name,
            "biography": target.bio,
            "website": f"https://linktr.ee/{target.username}",
            "profile_picture_url": f"https://scontent.cdninstagram.com/v/t51/{target.account_id}.jpg",
            "followers_count": target.followers,
            "follows_count": target.following,
            "media_count": target.posts,
        }
        inner: dict = {}
        for spec in discovery.children or [FieldSpec("id", {})]:
            if spec.name not in BD_USER_FIELDS:
                return _nonexisting(spec.name, "IGUser")
            if spec.name != "media":
                inner[spec.name] = values[spec.name]
                continue
            result = self._page(
                target,
                spec.children or [],
                spec.modifiers.get("limit"),
                spec.modifiers.get("after"),
                spec.modifiers.get("before"),
            )
            if isinstance(result, Reply):
                return result
            items, page, older, _ = result
            media: dict = {"data": items}
            if page:
                cursors = {"before": encode_cursor(page[0])}
                if older:
                    cursors["after"] = encode_cursor(page[-1])
                media["paging"] = {"cursors": cursors}
            inner["media"] = media
        inner.setdefault("id", target.account_id)
        body: dict = {"business_discovery": inner}
        for spec in fields:
            if spec.name not in ("business_discovery", "id"):
                return _nonexisting(spec.name, "User")
        body["id"] = path_id
        return json_reply(200, body, ascii_only=True)

    # --- limits, faults and usage headers -----------------------------------------------------

    @staticmethod
    def _throttled(code: int) -> Reply:
        if code == THROTTLE_CODES_BUC:
            return graph_error(
                "There have been too many calls to this Instagram account. Wait a bit and try "
                "again.",
                THROTTLE_CODES_BUC,
                transient=True,
            )
        return graph_error("Application request limit reached", THROTTLE_CODE_APP, transient=True)

    def _fault(self, kind: str, account_id: str, now: datetime) -> Reply:
        if kind == "throttle":
            reply = graph_error("Application request limit reached", 4, transient=True)
            minutes = self.cfg.throttle_fault_minutes
            return self._usage(reply, account_id, now, forced_pct=100, forced_minutes=minutes)
        if kind == "token_expired":
            reply = _expired(now, now)
        else:
            reply = graph_error(
                "An unexpected error has occurred. Please retry your request later.",
                2,
                status=500,
                transient=True,
            )
        return self._usage(reply, account_id, now)

    def _app_usage(self, reply: Reply, account_id: str | None) -> Reply:
        return self._usage(reply, account_id, self.world.now())

    def _usage(
        self,
        reply: Reply,
        account_id: str | None,
        now: datetime,
        forced_pct: int | None = None,
        forced_minutes: int | None = None,
    ) -> Reply:
        """X-App-Usage and X-Business-Use-Case-Usage from the calls counted in the last hour."""
        w = self.world
        app_limit = self.cfg.instagram_app_calls_per_hour
        app_pct = _pct(w.limits.count(("ig-app",), now, HOUR), app_limit)
        if forced_pct is not None:
            app_pct = max(app_pct, forced_pct)
        reply.headers["X-App-Usage"] = json.dumps(
            {"call_count": app_pct, "total_time": app_pct // 2, "total_cputime": app_pct // 3},
            separators=(",", ":"),
        )
        buc: dict = {}
        if account_id is not None:
            key = ("ig-buc", account_id)
            limit = self.cfg.instagram_buc_calls_per_hour
            pct = _pct(w.limits.count(key, now, HOUR), limit)
            minutes = math.ceil(w.limits.regain_seconds(key, now, HOUR, limit) / 60)
            if forced_pct is not None:
                pct = max(pct, forced_pct)
            if forced_minutes is not None:
                minutes = max(minutes, forced_minutes)
            buc[account_id] = [
                {
                    "type": "instagram",
                    "call_count": pct,
                    "total_cputime": pct // 3,
                    "total_time": pct // 2,
                    "estimated_time_to_regain_access": minutes,
                }
            ]
        reply.headers["X-Business-Use-Case-Usage"] = json.dumps(buc, separators=(",", ":"))
        return reply


def _pct(count: int, limit: int) -> int:
    return int(100 * count / max(limit, 1))


def _nonexisting(name: str, node: str) -> Reply:
    return _param_error(f"Tried accessing nonexisting field ({name}) on node type ({node})")
