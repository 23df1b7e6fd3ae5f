"""What one poll of time does to an account and its posts: followers drift, metrics grow.

Draws come from the world's random source in a fixed order, like generation, so two worlds of
one seed stay equal poll after poll.
"""

from __future__ import annotations

import math
import random
from datetime import datetime

from analisa.core.catalog import DEMOGRAPHICS_MIN_FOLLOWERS
from sandbox.world.model import Account, InstagramMedia, Post


def move_followers(account: Account, rng: random.Random) -> None:
    """Followers mostly grow; small accounts stay small so they keep showing no demographics."""
    if account.followers < DEMOGRAPHICS_MIN_FOLLOWERS:
        account.followers = min(99, max(0, account.followers + rng.randint(-1, 2)))
    else:
        change = round(account.followers * rng.uniform(-0.002, 0.012))
        account.followers = max(0, account.followers + change)
    account.following = max(0, account.following + rng.randint(-2, 3))


def grow(post: Post, now: datetime, rng: random.Random) -> None:
    """A live post's metrics after one more poll: fast while young, a trickle later."""
    age_days = (now - post.posted_at).total_seconds() / 86_400
    boost = 0.25 * math.exp(-age_days / 2) + rng.uniform(0.002, 0.01)

    def inc(value: int, minimum: int = 0) -> int:
        return max(minimum, round(value * boost * rng.uniform(0.7, 1.3)))

    if isinstance(post, InstagramMedia):
        reach_inc = inc(post.reach, 1)
        post.reach += reach_inc
        post.views += max(reach_inc, inc(post.views, 1))
        post.like_count += inc(post.like_count, 1)
        post.comments_count += inc(post.comments_count)
        post.saved += inc(post.saved)
        post.shares += inc(post.shares)
    else:
        post.view_count += inc(post.view_count, 1)
        post.like_count += inc(post.like_count, 1)
        post.comment_count += inc(post.comment_count)
        post.share_count += inc(post.share_count)
