"""The sandbox's world: influencers, posts, audiences and their evolution, all from one seed.

The sandbox server answers from this state and tests read it as the truth the connectors must
reproduce, so everything here is a plain dataclass and every random draw comes from one
`random.Random(seed)`. This module holds the state, its two clocks and its faults; what the
state is made of, how it is drawn and how it changes live beside it.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from analisa.core.catalog import AUDIENCE_BREAKDOWNS, PLATFORMS
from sandbox.auth import AuthStore
from sandbox.limits import SlidingWindows
from sandbox.world.audience import Audience, DemographicRows, follower_counts
from sandbox.world.config import SandboxConfig
from sandbox.world.evolution import grow, move_followers
from sandbox.world.faults import Fault, FaultQueue
from sandbox.world.generation import WorldGenerator
from sandbox.world.model import Account, Post
from sandbox.world.planted import PlantedTruths
from sandbox.world.stories import STORY_LIFETIME, InstagramStory, live_stories
from sandbox.world.twins import PlantedTwins

# One advance is one poll of the collector: a day of platform time.
POLL_INTERVAL = timedelta(days=1)


@dataclass
class _PlatformState:
    accounts: dict[str, Account] = field(default_factory=dict)
    posts: dict[str, dict[str, Post]] = field(default_factory=dict)
    """account_id -> post_id -> post, deleted ones included."""


class SandboxWorld:
    """Deterministic platform state: same config, same answers; `advance()` moves one poll on."""

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self.lock = threading.RLock()
        self.epoch = 0
        self.auth = AuthStore()
        self.limits = SlidingWindows()
        self._rng = random.Random(self.config.seed)
        self._generator = WorldGenerator(self._rng, self.config.hidden_likes_fraction)
        self._state = {p: _PlatformState() for p in PLATFORMS}
        self._audiences: dict[str, Audience] = {}
        self._faults = FaultQueue()
        # Lookup indexes, so large worlds (benchmarks) answer each request in constant time.
        self._post_owner: dict[tuple[str, str], str] = {}
        self._by_username: dict[tuple[str, str], str] = {}
        self._instagram_ids: dict[str, str] = {}
        self._clock_offset = timedelta(0)
        self._monotonic_start = time.monotonic()
        self._plantings: list[PlantedTruths] = []
        self._stories_refused: set[str] = set()
        self._populate()
        if self.config.planted_truths:
            self._plant(PlantedTruths)
        if self.config.planted_twins:
            self._plant(PlantedTwins)

    # --- time -------------------------------------------------------------------------------

    @property
    def poll_time(self) -> datetime:
        """The platform's 'now' for data: posts are never newer than this."""
        return self.config.start + self.epoch * POLL_INTERVAL

    def now(self) -> datetime:
        """The clock for tokens, codes and rate windows: poll time plus real and moved time."""
        with self.lock:
            elapsed = timedelta(
                seconds=(time.monotonic() - self._monotonic_start) * self.config.time_scale
            )
            return self.poll_time + self._clock_offset + elapsed

    def move_clock(self, delta: timedelta) -> None:
        """Let time pass without changing the data (token ages, code expiry, rate windows)."""
        with self.lock:
            self._clock_offset += delta

    def story_time(self) -> datetime:
        """The clock stories live on: poll time plus moved time (real seconds do not age them,
        so what is live is the same for every call of a test)."""
        with self.lock:
            return self.poll_time + self._clock_offset

    # --- building and changing the state ----------------------------------------------------

    def _populate(self) -> None:
        cfg, rng = self.config, self._rng
        for platform in PLATFORMS:
            state = self._state[platform]
            for index in range(cfg.influencers_per_platform):
                low = index >= cfg.influencers_per_platform - cfg.low_follower_accounts
                taken = {a.username for a in state.accounts.values()}
                account, audience = self._generator.account(platform, low, taken)
                self._add_account(account, audience)
                posted = cfg.start - timedelta(seconds=rng.randint(3_600, 30 * 3_600))
                for _ in range(cfg.posts_per_influencer):
                    self._add_post(account, posted)
                    posted -= timedelta(seconds=rng.randint(6 * 3_600, 72 * 3_600))
                self._refresh_counts(account)

    def _plant(self, kind: type[PlantedTruths]) -> None:
        """Planted accounts, after every default one and from their own random source."""
        cfg = self.config
        planting = kind(cfg.seed, self._generator.ids, cfg.planted_spike_epoch)
        self._plantings.append(planting)
        rng = planting.rng
        for account, audience in planting.accounts():
            self._add_account(account, audience)
            posted = cfg.start - timedelta(seconds=rng.randint(3_600, 30 * 3_600))
            for _ in range(cfg.posts_per_influencer):
                self._add_post(account, posted)
                posted -= timedelta(seconds=rng.randint(6 * 3_600, 72 * 3_600))
            self._refresh_counts(account)

    def _planting(self, account: Account) -> PlantedTruths | None:
        return next((p for p in self._plantings if account.account_id in p.account_ids), None)

    def _add_account(self, account: Account, audience: Audience | None) -> None:
        platform = account.platform
        self._state[platform].accounts[account.account_id] = account
        self._state[platform].posts[account.account_id] = {}
        self._by_username[(platform, account.username)] = account.account_id
        if platform == "instagram":
            self._instagram_ids[account.account_id] = account.account_id
            self._instagram_ids[account.app_scoped_id] = account.account_id
        if audience is not None:
            self._audiences[account.account_id] = audience

    def _add_post(self, account: Account, posted: datetime) -> Post:
        planting = self._planting(account)
        if planting is not None:
            post = planting.post(account, posted, self.poll_time)
        else:
            post = self._generator.post(account, posted, self.poll_time)
        self._state[account.platform].posts[account.account_id][post.post_id] = post
        self._post_owner[(account.platform, post.post_id)] = account.account_id
        return post

    def _refresh_counts(self, account: Account) -> None:
        live = self._live(account.platform, account.account_id)
        account.posts = len(live)
        if account.platform == "tiktok":
            account.likes = sum(p.like_count for p in live)

    def advance(self) -> int:
        """Move to the next poll: followers move, metrics grow, posts are deleted and published."""
        with self.lock:
            self.epoch += 1
            now, cfg = self.poll_time, self.config
            for platform in PLATFORMS:
                for account in self._state[platform].accounts.values():
                    planted = self._planting(account)
                    rng = planted.rng if planted else self._rng
                    move_followers(account, rng)
                    if planted:
                        planted.after_followers_moved(account, self.epoch)
                    live = self._live(platform, account.account_id)
                    for post in live:
                        grow(post, now, rng)
                    for post in rng.sample(live, min(cfg.deletions_per_advance, len(live))):
                        post.deleted_at = now
                    for i in range(cfg.new_posts_per_advance):
                        # Distinct seconds keep TikTok's time cursor unambiguous.
                        self._add_post(account, now - timedelta(minutes=7 * i))
                    self._refresh_counts(account)
            return self.epoch

    # --- truth for tests and for the API ----------------------------------------------------

    def accounts(self, platform: str) -> list[Account]:
        with self.lock:
            return [replace(a) for a in self._state[platform].accounts.values()]

    def account(self, platform: str, account_id: str) -> Account | None:
        with self.lock:
            found = self._state[platform].accounts.get(account_id)
            return replace(found) if found else None

    def account_by_username(self, platform: str, username: str) -> Account | None:
        with self.lock:
            account_id = self._by_username.get((platform, username))
            return self.account(platform, account_id) if account_id else None

    def instagram_account_by_any_id(self, some_id: str) -> Account | None:
        """Instagram paths accept the professional account id or the app-scoped id."""
        with self.lock:
            account_id = self._instagram_ids.get(some_id)
            return self.account("instagram", account_id) if account_id else None

    def _live(self, platform: str, account_id: str) -> list[Post]:
        posts = self._state[platform].posts.get(account_id, {}).values()
        live = [p for p in posts if not p.deleted]
        return sorted(live, key=lambda p: (p.posted_at, p.post_id), reverse=True)

    def live_posts(self, platform: str, account_id: str) -> list[Post]:
        """The account's live posts, newest first (copies)."""
        with self.lock:
            return [replace(p) for p in self._live(platform, account_id)]

    def all_posts(self, platform: str, account_id: str) -> list[Post]:
        """Live and deleted posts, newest first (copies)."""
        with self.lock:
            posts = self._state[platform].posts.get(account_id, {}).values()
            ordered = sorted(posts, key=lambda p: (p.posted_at, p.post_id), reverse=True)
            return [replace(p) for p in ordered]

    def deleted_post_ids(self, platform: str, account_id: str | None = None) -> set[str]:
        with self.lock:
            state = self._state[platform]
            owners = [account_id] if account_id else list(state.posts)
            posts = [p for owner in owners for p in state.posts.get(owner, {}).values()]
            return {p.post_id for p in posts if p.deleted}

    def post(self, platform: str, post_id: str) -> Post | None:
        """A post by id, deleted or not (copy); None when it never existed."""
        with self.lock:
            owner = self._post_owner.get((platform, post_id))
            if owner is None:
                return None
            return replace(self._state[platform].posts[owner][post_id])

    def live_stories(self, account_id: str, at: datetime | None = None) -> list[InstagramStory]:
        """An Instagram account's stories live now (or at `at`), newest first."""
        with self.lock:
            account = self._state["instagram"].accounts.get(account_id)
            if account is None:
                return []
            when = self.story_time() if at is None else at
            return live_stories(self.config.seed, account_id, account.followers, when)

    def find_story(self, account_id: str, story_id: str) -> tuple[InstagramStory, bool] | None:
        """One of the account's stories of the last two days by id, and whether it is live."""
        with self.lock:
            account = self._state["instagram"].accounts.get(account_id)
            if account is None:
                return None
            now = self.story_time()
            for when in (now, now - STORY_LIFETIME):
                for story in live_stories(self.config.seed, account_id, account.followers, when):
                    if story.story_id == story_id:
                        return story, story.live_at(now)
            return None

    def refuse_stories(self, account_id: str, refused: bool = True) -> None:
        """Whether the account withholds its stories from the app (error 10, permission)."""
        with self.lock:
            if refused:
                self._stories_refused.add(account_id)
            else:
                self._stories_refused.discard(account_id)

    def stories_refused(self, account_id: str) -> bool:
        with self.lock:
            return account_id in self._stories_refused

    def demographics(self, account_id: str, breakdown: str) -> DemographicRows:
        """Follower demographics as (dimension values, count); empty below 100 followers."""
        if breakdown not in AUDIENCE_BREAKDOWNS:
            raise ValueError(f"unknown breakdown {breakdown!r}")
        with self.lock:
            followers = self._state["instagram"].accounts[account_id].followers
            audience = self._audiences[account_id]
        return follower_counts(audience, followers, breakdown)

    def accounts_summary(self) -> dict[str, list[dict[str, str]]]:
        with self.lock:
            return {
                p: [
                    {"account_id": a.account_id, "username": a.username}
                    for a in self._state[p].accounts.values()
                ]
                for p in PLATFORMS
            }

    # --- faults -----------------------------------------------------------------------------

    def inject_fault(
        self,
        platform: str,
        endpoint: str,
        kind: str,
        count: int = 1,
        account_id: str | None = None,
    ) -> None:
        """Make the next `count` matching calls fail in the given way."""
        with self.lock:
            self._faults.inject(platform, endpoint, kind, count, account_id)

    def take_fault(self, platform: str, endpoint: str, account_id: str | None) -> str | None:
        """The kind of the first pending fault for this call, consuming one use of it."""
        with self.lock:
            return self._faults.take(platform, endpoint, account_id)

    def pending_faults(self) -> list[Fault]:
        with self.lock:
            return self._faults.pending()

    def clear_faults(self) -> None:
        with self.lock:
            self._faults.clear()

    # --- tokens -----------------------------------------------------------------------------

    def revoke_tokens(self, platform: str, account_id: str) -> int:
        """Invalidate every token of an account, as a changed password or a removed app does."""
        with self.lock:
            return self.auth.revoke(platform, account_id)

    def issue_token(
        self, platform: str, account_id: str, scopes: Iterable[str] | None = None
    ) -> str:
        """A valid access token for an account without the OAuth dance (sandbox shortcut)."""
        with self.lock:
            if account_id not in self._state[platform].accounts:
                raise KeyError(f"no {platform} account {account_id}")
            if platform == "instagram":
                grant = self.auth.issue_instagram(account_id, scopes, self.now(), long_lived=True)
                return grant.token
            access, _ = self.auth.issue_tiktok(account_id, scopes, self.now())
            return access.token
