"""One Instagram account's round, incremental: profile; media pages of 100 (the maximum) as far
as the recent window reaches, or complete on a slower cadence (deletion detection needs a
complete listing); then the stories live now and their insights, every round (they last
24 h); insights of recent posts every round and of older ones, with the audience breakdowns, on a
slower cadence; existence probes of the posts silver asks about.

Progress is checkpointed (session.checkpoint, committed with each attempt): a retry resumes
the listing at its cursor and skips the insights, breakdowns and probes already fetched. One
media's refused insights (error 10, 100/2108006) skip that media with a reason, not the account;
an account that withholds its stories (error 10) is collected without them.
"""

from __future__ import annotations

from datetime import datetime

from analisa.core.catalog import AUDIENCE_BREAKDOWNS
from connectors.instagram.client import InstagramClient
from connectors.rounds import RoundSession, usable_json


def _epoch(timestamp: object) -> float | None:
    try:
        return datetime.strptime(str(timestamp), "%Y-%m-%dT%H:%M:%S%z").timestamp()
    except ValueError:
        return None


def _recent_since(session: RoundSession, posts: list, window: float) -> float:
    """Posts from this time on are recent: the window ends now, or at the newest post when the
    platform's clock runs behind ours (a quiet account's last posts still count as recent)."""
    newest = max((p[2] for p in posts if p[2] is not None), default=None)
    end = session.clock() if newest is None else min(session.clock(), newest)
    return end - window


def collect(session: RoundSession) -> None:
    settings, task, cp = session.settings, session.task, session.checkpoint
    client = InstagramClient(
        session.http,
        settings.instagram_graph_url,
        settings.instagram_graph_version,
        session.token.access_token,
        task.account_id,
        task.round_id,
        task_id=task.task_id,
        before_call=session.before_call,
    )
    slow = cp.setdefault(
        "old_insights", session.due("old_insights", settings.old_insights_every_seconds)
    )
    # older posts' insights need every post listed: a slow round is also a complete listing
    full = cp.setdefault(
        "full_listing", slow or session.due("full_listing", settings.full_listing_every_seconds)
    )
    recent = settings.recent_insights_days * 86400

    if not cp.get("profile"):
        session.take(client.profile(), client.last_headers)
        cp["profile"] = True

    posts = cp.setdefault("posts", [])
    if not cp.get("listed"):
        for page in client.media_pages(settings.instagram_page_size, after=cp.get("after")):
            session.take(page, client.last_headers)
            body = usable_json(page)
            if body is None or not isinstance(body.get("data"), list):
                break  # malformed page: the listing ends here (silver sees it incomplete)
            items = [m for m in body["data"] if isinstance(m, dict) and "id" in m]
            posts += [
                [str(m["id"]), str(m.get("media_type", "")), _epoch(m.get("timestamp"))]
                for m in items
            ]
            paging = body.get("paging") or {}
            cp["after"] = (paging.get("cursors") or {}).get("after") if paging.get("next") else None
            oldest = min((p[2] for p in posts[-len(items) :] if p[2] is not None), default=None)
            if not full and oldest is not None and oldest < _recent_since(session, posts, recent):
                break  # the recent window is covered; older posts wait for a complete listing
        cp["listed"] = True
    recent_since = _recent_since(session, posts, recent)

    if settings.instagram_stories:
        collect_stories(session, client)

    done = cp.setdefault("insights_done", [])
    finished = set(done)
    for media_id, media_type, posted in posts:
        if media_id in finished:
            continue
        if not slow and (posted is None or posted < recent_since):
            continue
        session.take_object(client.media_insights(media_id, media_type), client.last_headers)
        done.append(media_id)
        finished.add(media_id)

    if slow:
        audience = cp.setdefault("audience_done", [])
        for breakdown in AUDIENCE_BREAKDOWNS:
            if breakdown not in audience:
                session.take(client.audience(breakdown), client.last_headers)
                audience.append(breakdown)

    probed = cp.setdefault("probes_done", [])
    for media_id in session.posts_to_probe():
        if media_id not in probed:
            session.take_object(client.media_object(media_id), client.last_headers)
            probed.append(media_id)
    session.did.update(full_listing=full, old_insights=slow)


def collect_stories(session: RoundSession, client: InstagramClient) -> None:
    """The account's live stories, then each one's insights.

    Stories are not posts: they go to their own bronze endpoints, never to the media listing, so
    one that expires is never taken for a deleted post. A refused listing (error 10: the account
    does not grant its stories) skips stories with a reason; the round goes on.
    """
    cp = session.checkpoint
    stories = cp.setdefault("stories", [])
    if not cp.get("stories_listed"):
        for page in client.story_pages(
            session.settings.instagram_page_size, cp.get("stories_after")
        ):
            if session.take_object(page, client.last_headers, what="stories") is None:
                break  # not granted (or unreadable): no (more) stories this round
            body = usable_json(page) or {}
            stories += [
                str(s["id"]) for s in body.get("data") or [] if isinstance(s, dict) and "id" in s
            ]
            paging = body.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after") if paging.get("next") else None
            cp["stories_after"] = after
        cp["stories_listed"] = True
    done = cp.setdefault("story_insights_done", [])
    for story_id in stories:
        if story_id not in done:
            session.take_object(client.story_insights(story_id), client.last_headers)
            done.append(story_id)
