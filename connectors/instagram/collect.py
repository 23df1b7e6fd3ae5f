"""One Instagram account's round: profile, media pages, insights per media, audience breakdowns,
and existence probes of the posts silver asks about."""

from __future__ import annotations

from analisa.core.catalog import AUDIENCE_BREAKDOWNS
from connectors.instagram.client import InstagramClient
from connectors.rounds import RoundSession, usable_json


def collect(session: RoundSession) -> None:
    settings, task = session.settings, session.task
    client = InstagramClient(
        session.http,
        settings.instagram_graph_url,
        settings.instagram_graph_version,
        session.token.access_token,
        task.account_id,
        task.round_id,
        task_id=task.task_id,
    )
    session.take(client.profile(), client.last_headers)
    posts: list[tuple[str, str]] = []
    for page in client.media_pages():
        session.take(page, client.last_headers)
        body = usable_json(page)
        if body is None or not isinstance(body.get("data"), list):
            break  # malformed or error page: the listing ends here (silver sees it incomplete)
        posts += [
            (str(m["id"]), str(m.get("media_type", "")))
            for m in body["data"]
            if isinstance(m, dict) and "id" in m
        ]
    for media_id, media_type in posts:
        session.take(client.media_insights(media_id, media_type), client.last_headers)
    for breakdown in AUDIENCE_BREAKDOWNS:
        session.take(client.audience(breakdown), client.last_headers)
    for media_id in session.posts_to_probe():
        session.take(client.media_object(media_id), client.last_headers)
