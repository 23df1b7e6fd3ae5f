"""One TikTok account's round: user info, video pages (which carry the counts), and existence
probes of the videos silver asks about."""

from __future__ import annotations

from connectors.rounds import RoundSession, usable_json
from connectors.tiktok.client import TikTokClient


def collect(session: RoundSession) -> None:
    settings, task = session.settings, session.task
    client = TikTokClient(
        session.http,
        settings.tiktok_api_url,
        session.token.access_token,
        task.account_id,
        task.round_id,
        task_id=task.task_id,
    )
    session.take(client.user_info())
    for page in client.video_pages():
        session.take(page)
        data = (usable_json(page) or {}).get("data")
        if not isinstance(data, dict) or not isinstance(data.get("videos"), list):
            break
    # one id per request, so each answer says which post it is about
    for video_id in session.posts_to_probe():
        session.take_all(client.video_query([video_id]))
