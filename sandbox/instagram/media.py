"""Media as the Graph API renders it, and the cursor pages of an account's media list.

Shared by `/{ig-user-id}/media`, `/{ig-media-id}` and Business Discovery's nested `media`
field, which render the same objects and page the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from sandbox.instagram.cursors import decode_cursor, sort_key
from sandbox.instagram.errors import nonexisting_field, param_error
from sandbox.instagram.fields import FieldSpec
from sandbox.replies import Reply
from sandbox.world import Account, InstagramMedia, SandboxWorld

TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S+0000"
DEFAULT_PAGE = 25
MAX_PAGE = 100
CDN = "https://scontent.cdninstagram.com/v/t51"

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


@dataclass
class MediaPage:
    items: list[dict]
    """The rendered media of the page."""
    media: list[InstagramMedia]
    older: bool
    """Whether older media follow this page (a `next`/`after` link is due)."""
    newer: bool
    """Whether newer media precede it (a `previous` link is due)."""


def render_media(
    world: SandboxWorld, media: InstagramMedia, fields: list[FieldSpec]
) -> dict | Reply:
    """The requested fields of one media; an error Reply for a field Media does not have."""
    username = None
    out: dict = {}
    for spec in fields:
        name = spec.name
        if name not in MEDIA_FIELDS:
            return nonexisting_field(name, "Media")
        if name == "caption":
            if media.caption is not None:
                out[name] = media.caption
        elif name == "like_count":
            # Hidden likes: the field is absent, not zero.
            if not media.likes_hidden:
                out[name] = media.like_count
        elif name == "timestamp":
            out[name] = media.timestamp.strftime(TIMESTAMP_FORMAT)
        elif name == "thumbnail_url":
            if media.media_type == "VIDEO":
                out[name] = f"{CDN}/{media.media_id}.jpg"
        elif name == "media_url":
            ext = "mp4" if media.media_type == "VIDEO" else "jpg"
            out[name] = f"{CDN}/{media.media_id}.{ext}"
        elif name == "username":
            if username is None:
                owner = world.account("instagram", media.account_id)
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


def media_page(
    world: SandboxWorld,
    account: Account,
    fields: list[FieldSpec],
    limit_text: str | None,
    after: str | None,
    before: str | None,
) -> MediaPage | Reply:
    """One page of the account's live media, newest first, around the given cursor."""
    try:
        limit = DEFAULT_PAGE if limit_text in (None, "") else int(limit_text)
    except ValueError:
        return param_error("Param limit must be a number")
    if limit < 1:
        return param_error("Param limit must be a positive number")
    limit = min(limit, MAX_PAGE)
    posts = [p for p in world.live_posts("instagram", account.account_id)]
    try:
        if after:
            mark = decode_cursor(after)
            posts_after = [p for p in posts if sort_key(p) < mark]
            page = posts_after[:limit]
            newer = len(posts_after) < len(posts)
            older = len(posts_after) > limit
        elif before:
            mark = decode_cursor(before)
            posts_before = [p for p in posts if sort_key(p) > mark]
            page = posts_before[-limit:]
            newer = len(posts_before) > limit
            older = len(posts_before) < len(posts)
        else:
            page, newer, older = posts[:limit], False, len(posts) > limit
    except ValueError:
        return param_error("Invalid cursor")
    items = []
    for media in page:
        rendered = render_media(world, media, fields or [FieldSpec("id", {})])
        if isinstance(rendered, Reply):
            return rendered
        items.append(rendered)
    return MediaPage(items, page, older, newer)
