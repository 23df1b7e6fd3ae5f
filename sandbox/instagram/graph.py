"""graph.instagram.com: token checks, routing to a node and edge, limits, faults, usage headers.

Each call answers one request with a Reply while holding the world lock. Shapes, codes and
messages follow the platform's documentation (see PLATFORM_SAMPLES.md in the design notes).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sandbox.auth import AuthFailure
from sandbox.instagram.cursors import encode_cursor
from sandbox.instagram.discovery import business_discovery
from sandbox.instagram.errors import (
    THROTTLE_CODE_APP,
    THROTTLE_CODE_BUC,
    graph_error,
    missing_object,
    no_permission,
    nonexisting_field,
    not_your_account,
    param_error,
    server_error,
    throttled,
    token_expired,
)
from sandbox.instagram.fields import FieldSpec, FieldSyntaxError, parse_fields
from sandbox.instagram.insights import media_insights, user_insights
from sandbox.instagram.media import CDN, media_page, render_media
from sandbox.instagram.oauth import InstagramOAuth
from sandbox.instagram.stories import stories_page, story_insights
from sandbox.instagram.usage import UsageMeter
from sandbox.replies import Reply, add_query, bearer, json_reply, without_query
from sandbox.world import Account, InstagramMedia, SandboxWorld

_VERSION = re.compile(r"v\d+\.\d+")
# Injected faults that replace the answer (truncated_json damages a real one instead).
_ANSWERING_FAULTS = frozenset(
    {"throttle", "account_throttle", "token_expired", "server_error", "permission", "missing"}
)
INSIGHTS_SCOPE = "instagram_business_manage_insights"

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


@dataclass
class _Route:
    endpoint: str
    """The catalog endpoint the call belongs to: what faults match and collectors record."""
    app_level: bool
    """Counted against the app's budget (Business Discovery) instead of the account's."""
    handler: Callable[[], Reply]


class InstagramGraph:
    def __init__(self, world: SandboxWorld, oauth: InstagramOAuth) -> None:
        self.world = world
        self.oauth = oauth
        self.usage = UsageMeter(world)

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
                return self.usage.stamp_now(self.oauth.long_lived(query, now), None)
            if parts == ["refresh_access_token"]:
                return self.usage.stamp_now(self.oauth.refresh(query, now), None)
            token = query.get("access_token") or bearer(authorization)
            try:
                grant = w.auth.lookup("instagram", token, ("short", "long"), now)
            except AuthFailure as failure:
                reply = self.oauth.token_error(failure.reason, token, now)
                return self.usage.stamp_now(reply, None)
            account_id = grant.account_id
            route = self._route(parts, query, grant.account_id, grant.scopes, url)
            fault = w.take_fault("instagram", route.endpoint, account_id)
            if fault in _ANSWERING_FAULTS:
                return self._fault(fault, account_id, now)
            code = self.usage.charge(route.app_level, account_id, now)
            reply = throttled(code) if code is not None else route.handler()
            if fault == "truncated_json":
                reply = Reply(200, reply.text[: len(reply.text) // 2], dict(reply.headers))
            return self.usage.stamp(reply, account_id, now)

    def _fault(self, kind: str, account_id: str, now: datetime) -> Reply:
        """An injected failure, with the usage headers the platform would send alongside."""
        if kind == "throttle":
            reply = graph_error(
                "Application request limit reached", THROTTLE_CODE_APP, transient=True
            )
            minutes = self.world.config.throttle_fault_minutes
            return self.usage.stamp(reply, account_id, now, forced_pct=100, forced_minutes=minutes)
        if kind == "account_throttle":
            reply = throttled(THROTTLE_CODE_BUC)
            minutes = self.world.config.throttle_fault_minutes
            return self.usage.stamp(reply, account_id, now, forced_pct=100, forced_minutes=minutes)
        if kind == "permission":
            reply = graph_error("(#10) Application does not have permission for this action", 10)
        elif kind == "missing":
            reply = missing_object(account_id)
        else:
            reply = token_expired(now, now) if kind == "token_expired" else server_error()
        return self.usage.stamp(reply, account_id, now)

    def _route(
        self,
        parts: list[str],
        query: Mapping[str, str],
        token_account: str,
        scopes: tuple[str, ...],
        url: str,
    ) -> _Route:
        """Which endpoint a path is and who answers it; refusals are answers like any other."""
        w = self.world
        if not parts:
            return _Route("user", False, lambda: param_error("Unknown path components"))
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
            return _Route("user", False, lambda: param_error("Unknown path components"))
        insights_ok = INSIGHTS_SCOPE in scopes

        if account is not None:
            own = account.account_id == token_account
            if edge is None:
                return self._user_route(account, path_id, query, own)
            if edge == "media":
                return _Route(
                    "media",
                    False,
                    (lambda: self._media_list(account, query, url)) if own else not_your_account,
                )
            if edge == "stories":
                if not own:
                    return _Route("stories", False, not_your_account)
                if w.stories_refused(account.account_id):
                    return _Route("stories", False, no_permission)
                stories = w.live_stories(account.account_id)
                return _Route("stories", False, lambda: stories_page(account, stories, query, url))
            if edge == "insights":
                if not own:
                    return _Route("user_insights", False, not_your_account)
                if not insights_ok:
                    return _Route("user_insights", False, no_permission)
                return _Route(
                    "user_insights", False, lambda: user_insights(w, account, path_id, query)
                )
            return _Route("user", False, lambda: param_error(f"Unknown path components: /{edge}"))

        found = w.find_story(token_account, node) if media is None else None
        if found is not None and edge == "insights":
            story, live = found
            if not live:  # stories and their insights exist for 24 hours only
                return _Route("story_insights", False, lambda: missing_object(node))
            if not insights_ok or w.stories_refused(token_account):
                return _Route("story_insights", False, no_permission)
            return _Route("story_insights", False, lambda: story_insights(story, query))
        endpoint = "media_insights" if edge == "insights" else "media_object"
        if not isinstance(media, InstagramMedia) or media.deleted:
            return _Route(endpoint, False, lambda: missing_object(node))
        if media.account_id != token_account:
            return _Route(endpoint, False, no_permission)
        if edge is None:
            return _Route(endpoint, False, lambda: self._media_object(media, query))
        if edge == "insights":
            if not insights_ok:
                return _Route(endpoint, False, no_permission)
            return _Route(endpoint, False, lambda: media_insights(media, query))
        return _Route(endpoint, False, lambda: param_error(f"Unknown path components: /{edge}"))

    def _user_route(
        self, account: Account, path_id: str, query: Mapping[str, str], own: bool
    ) -> _Route:
        """A user node without an edge: the profile, or Business Discovery through it."""
        try:
            fields = parse_fields(query.get("fields", ""))
        except FieldSyntaxError as exc:
            problem = param_error(f"Syntax error: {exc}")
            return _Route("user", False, lambda: problem)
        discovery = next((f for f in fields if f.name == "business_discovery"), None)
        if discovery is not None:
            handler = (
                (lambda: business_discovery(self.world, path_id, discovery, fields))
                if own
                else not_your_account
            )
            return _Route("user", True, handler)
        return _Route(
            "user",
            False,
            (lambda: self._profile(account, path_id, fields)) if own else not_your_account,
        )

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
            "profile_picture_url": f"{CDN}/{account.account_id}.jpg",
            "biography": account.bio,
            "website": f"https://linktr.ee/{account.username}",
            "id": path_id,
        }
        body: dict = {}
        for spec in fields:
            if spec.name not in USER_FIELDS:
                return nonexisting_field(spec.name, "User")
            body[spec.name] = values[spec.name]
        body["id"] = path_id
        return json_reply(200, body, ascii_only=True)

    def _media_list(self, account: Account, query: Mapping[str, str], url: str) -> Reply:
        try:
            fields = parse_fields(query.get("fields", ""))
        except FieldSyntaxError as exc:
            return param_error(f"Syntax error: {exc}")
        page = media_page(
            self.world, account, fields, query.get("limit"), query.get("after"), query.get("before")
        )
        if isinstance(page, Reply):
            return page
        body: dict = {"data": page.items}
        if page.media:
            first, last = encode_cursor(page.media[0]), encode_cursor(page.media[-1])
            paging: dict = {"cursors": {"before": first, "after": last}}
            base = without_query(url, "after", "before")
            if page.older:
                paging["next"] = add_query(base, {"after": last})
            if page.newer:
                paging["previous"] = add_query(base, {"before": first})
            body["paging"] = paging
        return json_reply(200, body, ascii_only=True)

    def _media_object(self, media: InstagramMedia, query: Mapping[str, str]) -> Reply:
        try:
            fields = parse_fields(query.get("fields", ""))
        except FieldSyntaxError as exc:
            return param_error(f"Syntax error: {exc}")
        rendered = render_media(self.world, media, fields)
        if isinstance(rendered, Reply):
            return rendered
        return json_reply(200, rendered, ascii_only=True)
