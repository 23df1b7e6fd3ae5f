"""`GET /{ig-user-id}/stories` and `GET /{story-id}/insights`: stories while they live (24 h).

An account that withholds its stories answers error 10 (permission), which means "no stories
for this account", not a broken account. A story's insights accept the story set of metrics
only (one refused metric fails the whole call, error 100), and a story seen by fewer than five
accounts answers error 10 ("Not enough viewers"), as the platform documents.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping

from sandbox.instagram.errors import graph_error, nonexisting_field, param_error
from sandbox.instagram.fields import FieldSpec, parse_fields
from sandbox.instagram.insights import lifetime_insights
from sandbox.instagram.media import CDN, DEFAULT_PAGE, MAX_PAGE, TIMESTAMP_FORMAT
from sandbox.replies import Reply, add_query, json_reply, without_query
from sandbox.world import Account
from sandbox.world.stories import MIN_VIEWERS_FOR_INSIGHTS, InstagramStory

STORY_FIELDS = frozenset(
    {
        "id",
        "media_type",
        "media_product_type",
        "timestamp",
        "permalink",
        "username",
        "media_url",
        "thumbnail_url",
        "owner",
    }
)
STORY_METRICS = {
    "reach": ("Reach", "The number of unique accounts that have seen the story."),
    "replies": ("Replies", "The number of replies to the story."),
    "navigation": (
        "Navigation",
        "The number of taps forward, taps back, exits and swipes to the next story.",
    ),
    "shares": ("Shares", "The number of shares of the story."),
    "total_interactions": ("Total interactions", "Replies and shares of the story."),
    "views": ("Views", "The number of times the story was displayed."),
    "follows": ("Follows", "The number of accounts that started following from the story."),
}
_CURSOR_PREFIX = "QVFI"


def _cursor(story: InstagramStory) -> str:
    raw = f"{int(story.timestamp.timestamp())}:{story.story_id}".encode()
    return _CURSOR_PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _uncursor(cursor: str) -> tuple[int, str]:
    if not cursor.startswith(_CURSOR_PREFIX):
        raise ValueError("not a cursor")
    body = cursor[len(_CURSOR_PREFIX) :]
    try:
        stamp, story_id = (
            base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode().split(":")
        )
        return int(stamp), story_id
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ValueError("not a cursor") from exc


def _render(story: InstagramStory, username: str, fields: list[FieldSpec]) -> dict | Reply:
    out: dict = {}
    for spec in fields:
        name = spec.name
        if name not in STORY_FIELDS:
            return nonexisting_field(name, "Media")
        if name == "id":
            out[name] = story.story_id
        elif name == "media_type":
            out[name] = story.media_type
        elif name == "media_product_type":
            out[name] = story.media_product_type
        elif name == "timestamp":
            out[name] = story.timestamp.strftime(TIMESTAMP_FORMAT)
        elif name == "permalink":
            out[name] = story.permalink(username)
        elif name == "username":
            out[name] = username
        elif name == "media_url":
            ext = "mp4" if story.media_type == "VIDEO" else "jpg"
            out[name] = f"{CDN}/{story.story_id}.{ext}"
        elif name == "thumbnail_url":
            if story.media_type == "VIDEO":
                out[name] = f"{CDN}/{story.story_id}.jpg"
        elif name == "owner":
            out[name] = {"id": story.account_id}
    out.setdefault("id", story.story_id)
    return out


def stories_page(
    account: Account, stories: list[InstagramStory], query: Mapping[str, str], url: str
) -> Reply:
    """One page of the account's live stories, newest first."""
    try:
        fields = parse_fields(query.get("fields", "")) or [FieldSpec("id", {})]
    except ValueError as exc:
        return param_error(f"Syntax error: {exc}")
    limit_text = query.get("limit")
    try:
        limit = DEFAULT_PAGE if limit_text in (None, "") else int(limit_text)
    except ValueError:
        return param_error("Param limit must be a number")
    if limit < 1:
        return param_error("Param limit must be a positive number")
    limit = min(limit, MAX_PAGE)
    rest = stories
    if query.get("after"):
        try:
            mark = _uncursor(query["after"])
        except ValueError:
            return param_error("Invalid cursor")
        rest = [s for s in stories if (int(s.timestamp.timestamp()), s.story_id) < mark]
    page = rest[:limit]
    items = []
    for story in page:
        rendered = _render(story, account.username, fields)
        if isinstance(rendered, Reply):
            return rendered
        items.append(rendered)
    body: dict = {"data": items}
    if page:
        paging: dict = {"cursors": {"before": _cursor(page[0]), "after": _cursor(page[-1])}}
        if len(rest) > limit:
            paging["next"] = add_query(without_query(url, "after"), {"after": _cursor(page[-1])})
        body["paging"] = paging
    return json_reply(200, body, ascii_only=True)


def story_insights(story: InstagramStory, query: Mapping[str, str]) -> Reply:
    """GET /{story-id}/insights: lifetime values of the story's own metrics."""
    names = [m.strip() for m in query.get("metric", "").split(",") if m.strip()]
    if not names:
        return param_error("The parameter metric is required")
    for name in names:
        if name not in STORY_METRICS:
            return param_error(
                f"The Media Insights API does not support the {name} metric for this media "
                "product type."
            )
    if story.reach < MIN_VIEWERS_FOR_INSIGHTS:
        return graph_error("(#10) Not enough viewers for the media to show insights", 10)
    values = {
        "reach": story.reach,
        "replies": story.replies,
        "navigation": story.navigation,
        "shares": story.shares,
        "total_interactions": story.total_interactions,
        "views": story.views,
        "follows": story.follows,
    }
    return lifetime_insights(story.story_id, names, values, STORY_METRICS)
