"""Instagram stories: posted through the day, gone 24 hours later.

Stories are drawn from their own random source per account and per slot of time (never from
the world's one `random.Random`), so the seeded worlds tests pin keep every post and follower
they had, and the stories live at any moment are known without keeping any state: the same
seed, account and time give the same stories. They live on the data clock (poll time plus
moved time, see SandboxWorld.story_time): `advance()` and `move_clock()` age them.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

STORY_LIFETIME = timedelta(hours=24)
SLOT = timedelta(hours=6)
"""Each slot of six hours holds 0 to 2 stories (about 4 a day)."""
_SLOT_STORIES = (0, 0, 1, 1, 1, 2)
MIN_POSTER_FOLLOWERS = 100
"""The sandbox's tiny accounts (under 100 followers, `low_follower_accounts`) post no stories."""
MIN_VIEWERS_FOR_INSIGHTS = 5
"""Below this reach the platform answers a story's insights with error 10."""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class InstagramStory:
    story_id: str
    account_id: str
    media_type: str
    """IMAGE or VIDEO (the platform says VIDEO for reels shared as stories too)."""
    timestamp: datetime
    reach: int
    replies: int
    navigation: int
    shares: int
    views: int
    follows: int

    media_product_type = "STORY"

    @property
    def expires_at(self) -> datetime:
        return self.timestamp + STORY_LIFETIME

    def live_at(self, when: datetime) -> bool:
        return self.timestamp <= when < self.expires_at

    @property
    def total_interactions(self) -> int:
        return self.replies + self.shares

    def permalink(self, username: str) -> str:
        return f"https://www.instagram.com/stories/{username}/{self.story_id}/"


def _rng(seed: int, account_id: str, slot: int) -> random.Random:
    digest = hashlib.sha256(f"{seed}:stories:{account_id}:{slot}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _slot(when: datetime) -> int:
    return int((when - _EPOCH) // SLOT)


def slot_stories(seed: int, account_id: str, followers: int, slot: int) -> list[InstagramStory]:
    """The stories an account posted in one slot of time (deterministic)."""
    rng = _rng(seed, account_id, slot)
    start = _EPOCH + slot * SLOT
    stories = []
    for k in range(rng.choice(_SLOT_STORIES)):
        posted = start + timedelta(seconds=rng.randint(0, int(SLOT.total_seconds()) - 1))
        reach = int(followers * rng.uniform(0.02, 0.12))
        views = reach + int(reach * rng.uniform(0.05, 0.4))
        stories.append(
            InstagramStory(
                story_id="18" + str(rng.randrange(10**14, 10**15)) + str(k),
                account_id=account_id,
                media_type=rng.choice(("IMAGE", "IMAGE", "VIDEO")),
                timestamp=posted.replace(microsecond=0),
                reach=reach,
                replies=int(reach * rng.uniform(0.0, 0.02)),
                navigation=int(views * rng.uniform(0.6, 1.1)),
                shares=int(reach * rng.uniform(0.0, 0.01)),
                views=views,
                follows=int(reach * rng.uniform(0.0, 0.005)),
            )
        )
    return stories


def live_stories(
    seed: int, account_id: str, followers: int, when: datetime
) -> list[InstagramStory]:
    """The account's stories live at `when`, newest first."""
    if followers < MIN_POSTER_FOLLOWERS:
        return []
    first, last = _slot(when - STORY_LIFETIME), _slot(when)
    found = [
        s
        for slot in range(first, last + 1)
        for s in slot_stories(seed, account_id, followers, slot)
        if s.live_at(when)
    ]
    return sorted(found, key=lambda s: (s.timestamp, s.story_id), reverse=True)
