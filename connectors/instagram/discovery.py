"""A public creator's round through Business Discovery (the brand's main use: creators who have
not connected): the public counts and media pages, read on the node of the brand's business
account connected through Facebook Login, under the app's platform limit (X-App-Usage).

No insights, no demographics exist for such a creator; gold says so (dim_influencers
`metrics_unavailable`). Incremental like a connected round: pages as far as the recent window
reaches, the complete media list on the slower cadence; the cursor is checkpointed.
"""

from __future__ import annotations

from connectors.http import ApiProblem
from connectors.instagram.client import InstagramClient
from connectors.instagram.collect import _epoch
from connectors.rounds import RoundSession, RoundStopped, usable_json

PAGE_SIZE = 50


def collect_public(session: RoundSession) -> None:
    settings, task, cp = session.settings, session.task, session.checkpoint
    username = session.state.get("username")
    if not username:
        raise RoundStopped(ApiProblem("permission", "a public creator is tracked by username"))
    client = InstagramClient(
        session.http,
        settings.facebook_graph_url,
        settings.instagram_graph_version,
        session.token.access_token,
        session.token.account_id,  # the brand's business account: discovery runs on its node
        task.round_id,
        task_id=task.task_id,
        before_call=session.before_call,
    )
    full = cp.setdefault(
        "full_listing", session.due("full_listing", settings.full_listing_every_seconds)
    )
    recent = settings.recent_insights_days * 86400
    seen = cp.setdefault("newest", None)
    while not cp.get("listed"):
        record = client.discovery_page(
            username, task.account_id, cp.get("after"), PAGE_SIZE, not cp.get("profile")
        )
        session.take(record, client.last_headers)
        body = usable_json(record)
        found = body.get("business_discovery") if body else None
        if not isinstance(found, dict):
            error = (record.body or {}).get("error") if isinstance(record.body, dict) else None
            message = error.get("message", "") if isinstance(error, dict) else "no answer"
            raise RoundStopped(ApiProblem("permission", f"Business Discovery refused: {message}"))
        cp["profile"] = True
        media = found.get("media") or {}
        items = [m for m in media.get("data") or [] if isinstance(m, dict)]
        after = ((media.get("paging") or {}).get("cursors") or {}).get("after")
        cp["after"] = after
        times = [t for t in (_epoch(m.get("timestamp")) for m in items) if t]
        oldest = min(times, default=None)
        seen = cp["newest"] = max([*times, *([seen] if seen else [])], default=None)
        recent_since = min(session.clock(), seen or session.clock()) - recent
        if not after or not items or (not full and oldest is not None and oldest < recent_since):
            cp["listed"] = True
    session.did.update(full_listing=full, old_insights=True)
