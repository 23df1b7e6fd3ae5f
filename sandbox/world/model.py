"""What the sandbox's world is made of: accounts and their posts on each platform.

Plain dataclasses, because tests compare them with what the connectors collected; the world
hands out copies, so a caller can never change the truth by editing what it was given.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar


@dataclass
class Account:
    platform: str
    account_id: str
    """Instagram: the professional account id (user_id); TikTok: the open_id."""
    username: str
    name: str
    followers: int
    following: int
    posts: int = 0
    """Live posts (Instagram media_count, TikTok video_count)."""
    likes: int = 0
    """TikTok likes_count: likes over the live videos."""
    niche: str = ""
    account_type: str = "MEDIA_CREATOR"
    app_scoped_id: str = ""
    """Instagram only: the `id` that /me answers with."""
    union_id: str = ""
    """TikTok only."""
    bio: str = ""
    verified: bool = False


@dataclass
class InstagramMedia:
    platform: ClassVar[str] = "instagram"
    media_id: str
    account_id: str
    caption: str | None
    media_type: str
    media_product_type: str
    timestamp: datetime
    shortcode: str
    likes_hidden: bool
    like_count: int
    comments_count: int
    reach: int
    saved: int
    shares: int
    views: int
    deleted_at: datetime | None = None

    @property
    def post_id(self) -> str:
        return self.media_id

    @property
    def posted_at(self) -> datetime:
        return self.timestamp

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def total_interactions(self) -> int:
        return self.like_count + self.comments_count + self.saved + self.shares

    @property
    def permalink(self) -> str:
        kind = "reel" if self.media_product_type == "REELS" else "p"
        return f"https://www.instagram.com/{kind}/{self.shortcode}/"


@dataclass
class TikTokVideo:
    platform: ClassVar[str] = "tiktok"
    video_id: str
    account_id: str
    create_time: datetime
    title: str
    video_description: str
    duration: int
    like_count: int
    comment_count: int
    share_count: int
    view_count: int
    deleted_at: datetime | None = None

    @property
    def post_id(self) -> str:
        return self.video_id

    @property
    def posted_at(self) -> datetime:
        return self.create_time

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None


Post = InstagramMedia | TikTokVideo
