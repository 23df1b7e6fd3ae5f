"""Business Discovery: one professional account reading another's public profile and media.

It rides on the caller's own `/me?fields=business_discovery.username(...){...}` request and
counts against the app's budget, not the caller's account budget.
"""

from __future__ import annotations

from sandbox.instagram.cursors import encode_cursor
from sandbox.instagram.errors import graph_error, nonexisting_field, param_error
from sandbox.instagram.fields import FieldSpec
from sandbox.instagram.media import CDN, MediaPage, media_page
from sandbox.replies import Reply, json_reply
from sandbox.world import SandboxWorld

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


def business_discovery(
    world: SandboxWorld, path_id: str, discovery: FieldSpec, fields: list[FieldSpec]
) -> Reply:
    """The answer to a `business_discovery` field asked of the caller's own node `path_id`."""
    username = discovery.modifiers.get("username")
    if not username:
        return param_error("Missing username in business_discovery")
    target = world.account_by_username("instagram", username)
    if target is None:
        return graph_error("Invalid user id", 110, subcode=2207013)
    values = {
        "id": target.account_id,
        "ig_id": int(target.account_id[-10:]),
        "username": target.username,
        "name": target.name,
        "biography": target.bio,
        "website": f"https://linktr.ee/{target.username}",
        "profile_picture_url": f"{CDN}/{target.account_id}.jpg",
        "followers_count": target.followers,
        "follows_count": target.following,
        "media_count": target.posts,
    }
    inner: dict = {}
    for spec in discovery.children or [FieldSpec("id", {})]:
        if spec.name not in BD_USER_FIELDS:
            return nonexisting_field(spec.name, "IGUser")
        if spec.name != "media":
            inner[spec.name] = values[spec.name]
            continue
        page = media_page(
            world,
            target,
            spec.children or [],
            spec.modifiers.get("limit"),
            spec.modifiers.get("after"),
            spec.modifiers.get("before"),
        )
        if isinstance(page, Reply):
            return page
        inner["media"] = _nested_media(page)
    inner.setdefault("id", target.account_id)
    body: dict = {"business_discovery": inner}
    for spec in fields:
        if spec.name not in ("business_discovery", "id"):
            return nonexisting_field(spec.name, "User")
    body["id"] = path_id
    return json_reply(200, body, ascii_only=True)


def _nested_media(page: MediaPage) -> dict:
    """Nested media pages carry cursors only: the next page is another discovery request."""
    media: dict = {"data": page.items}
    if page.media:
        cursors = {"before": encode_cursor(page.media[0])}
        if page.older:
            cursors["after"] = encode_cursor(page.media[-1])
        media["paging"] = {"cursors": cursors}
    return media
