"""One TikTok account's round: user info, video pages (which carry the counts), and existence
probes of the videos silver asks about. Progress is checkpointed: a retry resumes the listing
at its cursor and skips the probes already made."""

from __future__ import annotations

from connectors.rounds import RoundSession, usable_json
from connectors.tiktok.client import TikTokClient


def collect(session: RoundSession) -> None:
    settings, task, cp = session.settings, session.task, session.checkpoint
    client = TikTokClient(
        session.http,
        settings.tiktok_api_url,
        session.token.access_token,
        task.account_id,
        task.round_id,
        task_id=task.task_id,
        before_call=session.before_call,
    )
    if not cp.get("profile"):
        session.take(client.user_info())
        cp["profile"] = True
    if not cp.get("listed"):
        for page in client.video_pages(cursor=cp.get("cursor")):
            session.take(page)
            data = (usable_json(page) or {}).get("data")
            if not isinstance(data, dict) or not isinstance(data.get("videos"), list):
                break
            cp["cursor"] = data.get("cursor") if data.get("has_more") else None
        cp["listed"] = True
    # one id per request, so each answer says which post it is about
    probed = cp.setdefault("probes_done", [])
    for video_id in session.posts_to_probe():
        if video_id not in probed:
            for record in client.video_query([video_id]):
                session.take_object(record)
            probed.append(video_id)
    session.did.update(full_listing=True, old_insights=True)
