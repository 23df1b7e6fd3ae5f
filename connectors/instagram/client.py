"""Instagram Graph API (Instagram Login) calls, each kept as a RawRecord, never raised."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import httpx

from analisa.core.catalog import AUDIENCE_BREAKDOWNS
from connectors.http import fetch_record
from connectors.instagram.errors import classify
from connectors.records import RawRecord

PLATFORM = "instagram"
PROFILE_FIELDS = "user_id,username,name,account_type,followers_count,follows_count,media_count"
MEDIA_FIELDS = (
    "id,caption,media_type,media_product_type,timestamp,like_count,comments_count,permalink"
)
MEDIA_OBJECT_FIELDS = "id,timestamp,like_count,comments_count,media_type"
DEFAULT_MEDIA_METRICS = "reach,saved,shares,views,total_interactions"
# Metrics per media type: today every feed and reels type takes the same set, but the platform
# refuses some metrics per type (error 100), so the choice is made here, in one place.
MEDIA_METRICS: dict[str, str] = {
    "IMAGE": DEFAULT_MEDIA_METRICS,
    "VIDEO": DEFAULT_MEDIA_METRICS,
    "CAROUSEL_ALBUM": DEFAULT_MEDIA_METRICS,
}
STORY_FIELDS = "id,media_type,media_product_type,timestamp,permalink"
# A story takes its own set (a feed metric such as `saved` fails the whole call, error 100).
STORY_METRICS = "reach,replies,navigation,shares,total_interactions,views"
BUSINESS_DISCOVERY_FIELDS = (
    "username,name,followers_count,follows_count,media_count,"
    "media{id,timestamp,like_count,comments_count,media_type,media_product_type,caption,permalink}"
)

DISCOVERY_PROFILE_FIELDS = "username,name,followers_count,follows_count,media_count"
DISCOVERY_MEDIA_FIELDS = (
    "id,caption,media_type,media_product_type,timestamp,like_count,comments_count,permalink"
)


class InstagramClient:
    """One connected account's calls; the caller decides from each record (see classify)."""

    def __init__(
        self,
        http: httpx.Client,
        graph_url: str,
        version: str,
        access_token: str,
        account_id: str,
        round_id: str,
        task_id: str | None = None,
        before_call: Callable[[str], None] | None = None,
    ) -> None:
        self.http = http
        self.before_call = before_call
        """Called with the endpoint before each request (the shared rate budget)."""
        self.base = f"{graph_url.rstrip('/')}/{version.strip('/')}"
        self.account_id = account_id
        self.round_id = round_id
        self.task_id = task_id
        # The token travels in a header, so it is neither in logged URLs nor echoed in paging.next.
        self._headers = {"Authorization": f"Bearer {access_token}"}
        self.last_headers: httpx.Headers | None = None
        """Headers of the latest answer: usage (X-App-Usage, X-Business-Use-Case-Usage)."""

    def _get(
        self,
        path: str,
        endpoint: str,
        params: dict[str, Any],
        object_id: str | None = None,
        account_id: str | None = None,
    ) -> RawRecord:
        if self.before_call is not None:
            self.before_call(endpoint)
        record, response = fetch_record(
            self.http,
            "GET",
            f"{self.base}/{path}",
            platform=PLATFORM,
            endpoint=endpoint,
            account_id=account_id or self.account_id,
            round_id=self.round_id,
            object_id=object_id,
            task_id=self.task_id,
            params=params,
            headers=self._headers,
        )
        self.last_headers = response.headers
        return record

    def profile(self) -> RawRecord:
        return self._get("me", "user", {"fields": PROFILE_FIELDS})

    def media_pages(self, limit: int = 100, after: str | None = None) -> Iterator[RawRecord]:
        """The account's media, one record per page, newest first.

        Stops after the last page, or after a page that is an error or unreadable (that page is
        still yielded, so it is kept).
        """
        return self._pages(f"{self.account_id}/media", "media", MEDIA_FIELDS, limit, after)

    def media_insights(self, media_id: str, media_type: str | None = None) -> RawRecord:
        metrics = MEDIA_METRICS.get(media_type or "", DEFAULT_MEDIA_METRICS)
        return self._get(f"{media_id}/insights", "media_insights", {"metric": metrics}, media_id)

    def story_pages(self, limit: int = 100, after: str | None = None) -> Iterator[RawRecord]:
        """The account's live stories (24 h each), one record per page, like media_pages."""
        return self._pages(f"{self.account_id}/stories", "stories", STORY_FIELDS, limit, after)

    def _pages(
        self, path: str, endpoint: str, fields: str, limit: int, after: str | None
    ) -> Iterator[RawRecord]:
        """A cursor-paged listing from `after` (resuming where an earlier attempt of the round
        stopped) to its last page or a page that is an error or unreadable (still yielded)."""
        params: dict[str, Any] = {"fields": fields, "limit": limit}
        if after:
            params["after"] = after
        seen: set[str] = set()
        while True:
            record = self._get(path, endpoint, params)
            yield record
            if classify(record, self.last_headers) is not None:
                return
            paging = record.body.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            # `next` is present only when more pages exist; the cursor alone is not enough.
            if not paging.get("next") or not after or after in seen:
                return
            seen.add(after)
            params = {**params, "after": after}

    def story_insights(self, story_id: str) -> RawRecord:
        """A live story's insights; under five viewers the platform answers error 10."""
        params = {"metric": STORY_METRICS}
        return self._get(f"{story_id}/insights", "story_insights", params, story_id)

    def audience(self, breakdown: str) -> RawRecord:
        """Follower demographics for one breakdown (empty results below 100 followers)."""
        if breakdown not in AUDIENCE_BREAKDOWNS:
            known = ", ".join(AUDIENCE_BREAKDOWNS)
            raise ValueError(f"breakdown must be one of {known}, not {breakdown!r}")
        params = {
            "metric": "follower_demographics",
            "period": "lifetime",
            "metric_type": "total_value",
            "timeframe": "this_month",
            "breakdown": breakdown,
        }
        return self._get(f"{self.account_id}/insights", "user_insights", params)

    def media_object(self, media_id: str) -> RawRecord:
        """One post's counts; a deleted post answers 100/33 (classify: not_found)."""
        return self._get(media_id, "media_object", {"fields": MEDIA_OBJECT_FIELDS}, media_id)

    def discovery_page(
        self,
        username: str,
        creator_id: str,
        after: str | None = None,
        limit: int = 50,
        with_profile: bool = True,
    ) -> RawRecord:
        """One Business Discovery page of a public creator, filed under the creator's id.

        The first page carries the public counts; later pages ask for media only (a page
        without counts is a page of media, not a profile with zero followers).
        """
        media = f"media.after({after}).limit({limit})" if after else f"media.limit({limit})"
        inner = f"{media}{{{DISCOVERY_MEDIA_FIELDS}}}"
        if with_profile:
            inner = f"{DISCOVERY_PROFILE_FIELDS},{inner}"
        fields = f"business_discovery.username({username}){{{inner}}}"
        record = self._get(self.account_id, "user", {"fields": fields})
        return _refile(record, creator_id)

    def business_discovery(self, username: str, account_id: str | None = None) -> RawRecord:
        """Public counts and media of an account that has not connected, via this one.

        The record is filed under `account_id` when given, else under the id the answer
        reports, else under "username:<name>".
        """
        fields = f"business_discovery.username({username}){{{BUSINESS_DISCOVERY_FIELDS}}}"
        record = self._get(self.account_id, "user", {"fields": fields})
        if account_id is None:
            body = record.body
            found = body.get("business_discovery") if isinstance(body, dict) else None
            found_id = found.get("id") if isinstance(found, dict) else None
            account_id = str(found_id) if found_id else f"username:{username}"
        return _refile(record, account_id)


def _refile(record: RawRecord, account_id: str) -> RawRecord:
    return replace(record, account_id=account_id)
