"""TikTok Display API v2 calls, each kept as a RawRecord, never raised."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import Any

import httpx

from connectors.http import fetch_record
from connectors.records import RawRecord
from connectors.tiktok.errors import classify

PLATFORM = "tiktok"
USER_FIELDS = (
    "open_id,union_id,display_name,username,follower_count,following_count,likes_count,video_count"
)
VIDEO_FIELDS = (
    "id,create_time,title,video_description,duration,like_count,comment_count,share_count,"
    "view_count"
)
MAX_VIDEOS_PER_REQUEST = 20


class TikTokClient:
    """One connected account's calls; the caller decides from each record (see classify)."""

    def __init__(
        self,
        http: httpx.Client,
        api_url: str,
        access_token: str,
        open_id: str,
        round_id: str,
        task_id: str | None = None,
        before_call: Callable[[str], None] | None = None,
    ) -> None:
        self.http = http
        self.before_call = before_call
        """Called with the endpoint before each request (the shared rate budget)."""
        self.base = api_url.rstrip("/")
        self.open_id = open_id
        self.round_id = round_id
        self.task_id = task_id
        self._headers = {"Authorization": f"Bearer {access_token}"}

    def _call(
        self,
        method: str,
        path: str,
        endpoint: str,
        fields: str,
        body: Any = None,
        object_id: str | None = None,
    ) -> RawRecord:
        if self.before_call is not None:
            self.before_call(endpoint)
        record, _ = fetch_record(
            self.http,
            method,
            f"{self.base}{path}",
            platform=PLATFORM,
            endpoint=endpoint,
            account_id=self.open_id,
            round_id=self.round_id,
            object_id=object_id,
            task_id=self.task_id,
            params={"fields": fields},
            headers=self._headers,
            json=body,
        )
        if body is not None:
            # The request body says which page was asked (its cursor): silver needs it to tell a
            # listing that started at the first page from one that did not. It holds no secret.
            request = f"{record.request} {json.dumps(body, sort_keys=True)}"
            record = replace(record, request=request)
        return record

    def user_info(self, fields: str = USER_FIELDS) -> RawRecord:
        return self._call("GET", "/v2/user/info/", "user_info", fields)

    def video_pages(
        self, max_count: int = MAX_VIDEOS_PER_REQUEST, cursor: int | None = None
    ) -> Iterator[RawRecord]:
        """The account's videos, newest first, one record per page.

        Stops when has_more is false, or after a page that is an error or unreadable (that
        page is still yielded, so it is kept).
        """
        request: dict[str, int] = {"max_count": max_count}
        if cursor is not None:  # resuming a listing where an earlier attempt stopped
            request = {"cursor": cursor, "max_count": max_count}
        while True:
            record = self._call("POST", "/v2/video/list/", "video_list", VIDEO_FIELDS, request)
            yield record
            if classify(record) is not None:
                return
            data = record.body["data"]
            cursor = data["cursor"]
            # A cursor that does not move back in time would loop forever.
            if not data["has_more"] or ("cursor" in request and cursor >= request["cursor"]):
                return
            request = {"cursor": cursor, "max_count": max_count}

    def video_query(self, video_ids: Sequence[str]) -> list[RawRecord]:
        """Current counts of given videos, ≤20 ids per request, one record per request.

        Deleted videos are simply absent from an answer. object_id is the id when one was asked.
        """
        ids = list(dict.fromkeys(video_ids))
        records = []
        for start in range(0, len(ids), MAX_VIDEOS_PER_REQUEST):
            chunk = ids[start : start + MAX_VIDEOS_PER_REQUEST]
            records.append(
                self._call(
                    "POST",
                    "/v2/video/query/",
                    "video_query",
                    VIDEO_FIELDS,
                    {"filters": {"video_ids": chunk}},
                    object_id=chunk[0] if len(chunk) == 1 else None,
                )
            )
        return records
