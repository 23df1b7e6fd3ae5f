"""Seeded creation of accounts, their audiences and their posts.

Every draw comes from the world's one `random.Random`, in a fixed order: the same seed must give
the same world, because tests compare what the connectors collected with this truth. Reordering
any draw here changes every world, so add new draws after the existing ones.
"""

from __future__ import annotations

import math
import random
import string
import unicodedata
from collections.abc import Callable, Collection
from datetime import datetime

from analisa.core.catalog import AGE_BANDS
from sandbox.world.audience import Audience
from sandbox.world.model import Account, InstagramMedia, Post, TikTokVideo
from sandbox.world.names import name_tables

_TIKTOK_ID_ALPHABET = string.ascii_letters + string.digits
_SHORTCODE_ALPHABET = string.ascii_letters + string.digits + "-_"
# Relative size of each age band in a typical audience, in AGE_BANDS order.
_AGE_PROFILE = (0.3, 2.5, 3.0, 1.6, 0.8, 0.4, 0.2)


def ascii_username(text: str) -> str:
    """Usernames are ASCII on both platforms."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def maturity(posted: datetime, now: datetime) -> float:
    """The share of its final audience a post has reached: young posts have not collected it."""
    age_days = max(0.0, (now - posted).total_seconds() / 86_400)
    return 1 - 0.6 * math.exp(-age_days / 2)


class WorldGenerator:
    """Makes new accounts, audiences and posts from the world's random source, ids unique."""

    def __init__(
        self, rng: random.Random, hidden_likes_fraction: float, ids: set[str] | None = None
    ) -> None:
        self._rng = rng
        self._hidden_likes_fraction = hidden_likes_fraction
        # a second generator of the same world (planted accounts) shares the ids in use
        self._ids: set[str] = set() if ids is None else ids
        self._names = name_tables()

    @property
    def niches(self) -> tuple[str, ...]:
        return tuple(self._names.niches)

    def _new_id(self, make: Callable[[], str]) -> str:
        while True:
            value = make()
            if value not in self._ids:
                self._ids.add(value)
                return value

    def _digits(self, n: int) -> str:
        return "".join(self._rng.choice(string.digits) for _ in range(n))

    # --- accounts -----------------------------------------------------------------------------

    def account(
        self, platform: str, low: bool, taken: Collection[str]
    ) -> tuple[Account, Audience | None]:
        """A new creator (and, on Instagram, its audience); `taken` are the platform's usernames."""
        rng, names = self._rng, self._names
        niche = rng.choice(self.niches)
        first, last = rng.choice(names.first_names), rng.choice(names.last_names)
        patterns = [f"{first}.{niche}", f"{first}_{last}", f"{first}{last}.oficial"]
        base = ascii_username(rng.choice([*patterns, f"{niche}.{first}"]).lower())
        username = base
        while username in taken:
            username = f"{base}{rng.randint(1, 99)}"
        if low:
            followers = rng.randint(20, 95)
        else:
            # Log-uniform: many mid-size creators, a few large ones.
            followers = int(math.exp(rng.uniform(math.log(5_000), math.log(2_000_000))))
        following = rng.randint(50, 2_000)
        account = Account(
            platform=platform,
            account_id="",
            username=username,
            name=f"{first} {last}",
            followers=followers,
            following=following,
            niche=niche,
            bio=f"{niche.capitalize()} | {rng.choice(names.bio_places)}",
            verified=followers > 500_000,
        )
        if platform != "instagram":
            account.account_id = self._new_id(
                lambda: "-000" + "".join(rng.choice(_TIKTOK_ID_ALPHABET) for _ in range(28))
            )
            account.union_id = self._new_id(
                lambda: "".join(rng.choice("0123456789abcdef") for _ in range(32))
            )
            return account, None
        account.account_id = self._new_id(lambda: "178414" + self._digits(11))
        account.app_scoped_id = self._new_id(lambda: rng.choice("123456789") + self._digits(15))
        account.account_type = rng.choice(["MEDIA_CREATOR", "MEDIA_CREATOR", "BUSINESS"])
        return account, self.audience()

    def instagram_ids(self) -> tuple[str, str]:
        """A new (professional account id, app-scoped id) pair."""
        rng = self._rng
        account_id = self._new_id(lambda: "178414" + self._digits(11))
        app_scoped_id = self._new_id(lambda: rng.choice("123456789") + self._digits(15))
        return account_id, app_scoped_id

    @property
    def ids(self) -> set[str]:
        return self._ids

    def audience(self) -> Audience:
        rng, names = self._rng, self._names
        age_weights = [rng.uniform(0.2, 1.0) * w for w in _AGE_PROFILE]
        female = rng.uniform(0.25, 0.75)
        gender_weights = {"F": female, "M": (1 - female) * 0.95, "U": (1 - female) * 0.05}
        age_gender = {
            (age, gender): age_w * g_w * rng.uniform(0.8, 1.2)
            for age, age_w in zip(AGE_BANDS, age_weights, strict=True)
            for gender, g_w in gender_weights.items()
        }
        countries = {names.home_country: rng.uniform(5.0, 9.0)}
        for code in rng.sample(names.countries[1:], rng.randint(3, 6)):
            countries[code] = rng.uniform(0.1, 1.0)
        cities: dict[str, float] = {}
        for code, weight in countries.items():
            for city in names.cities.get(code, ()):
                cities[city] = weight * rng.uniform(0.1, 1.0)
        return Audience(age_gender, countries, cities, rng.uniform(0.6, 0.85))

    # --- posts --------------------------------------------------------------------------------

    def caption(self, niche: str) -> tuple[str, str]:
        """A caption's text and its hashtags, mostly from the creator's niche."""
        rng = self._rng
        pool = self._names.niches[niche]
        text = rng.choice(pool.captions)
        tags = rng.sample(pool.hashtags, rng.randint(1, 3))
        if rng.random() < 0.2:
            tags.append(rng.choice(self._names.niches[rng.choice(self.niches)].hashtags))
        if rng.random() < 0.7:
            text = f"{text} {rng.choice(pool.emoji)}"
        return text, " ".join(tags)

    def post(
        self,
        account: Account,
        posted: datetime,
        now: datetime,
        caption: tuple[str, str] | None = None,
    ) -> Post:
        """A post published at `posted`, with the metrics it has gathered by `now`; `caption`
        (text, hashtags) replaces the niche's drawn one."""
        grown = maturity(posted, now)
        followers = max(account.followers, 1)
        text, tags = caption if caption is not None else self.caption(account.niche)
        if account.platform == "instagram":
            return self._instagram_media(account, posted, grown, followers, text, tags)
        return self._tiktok_video(account, posted, grown, followers, text, tags)

    def _instagram_media(
        self, account: Account, posted: datetime, grown: float, followers: int, text: str, tags: str
    ) -> InstagramMedia:
        rng = self._rng
        media_type = rng.choices(["IMAGE", "CAROUSEL_ALBUM", "VIDEO"], [0.4, 0.25, 0.35])[0]
        product = "REELS" if media_type == "VIDEO" and rng.random() < 0.85 else "FEED"
        reach = max(1, int(followers * rng.uniform(0.08, 0.45) * grown))
        likes = max(1, int(reach * rng.uniform(0.03, 0.15)))
        media_id = self._new_id(lambda: "17" + rng.choice("89") + self._digits(14))
        caption = None if rng.random() < 0.05 else f"{text} {tags}"
        shortcode = self._new_id(
            lambda: "".join(rng.choice(_SHORTCODE_ALPHABET) for _ in range(11))
        )
        likes_hidden = rng.random() < self._hidden_likes_fraction
        comments = int(likes * rng.uniform(0.01, 0.08))
        saved = int(likes * rng.uniform(0.01, 0.12))
        shares = int(likes * rng.uniform(0.005, 0.08))
        views = int(reach * rng.uniform(1.2, 2.8)) + 1
        return InstagramMedia(
            media_id=media_id,
            account_id=account.account_id,
            caption=caption,
            media_type=media_type,
            media_product_type=product,
            timestamp=posted,
            shortcode=shortcode,
            likes_hidden=likes_hidden,
            like_count=likes,
            comments_count=comments,
            reach=reach,
            saved=saved,
            shares=shares,
            views=views,
        )

    def _tiktok_video(
        self, account: Account, posted: datetime, grown: float, followers: int, text: str, tags: str
    ) -> TikTokVideo:
        rng = self._rng
        views = max(1, int(followers * rng.uniform(0.1, 3.0) * grown))
        likes = max(1, int(views * rng.uniform(0.03, 0.12)))
        video_id = self._new_id(lambda: "74" + self._digits(17))
        duration = rng.randint(7, 180)
        comments = int(likes * rng.uniform(0.005, 0.05))
        shares = int(likes * rng.uniform(0.005, 0.1))
        return TikTokVideo(
            video_id=video_id,
            account_id=account.account_id,
            create_time=posted,
            title=text,
            video_description=f"{text} {tags}",
            duration=duration,
            like_count=likes,
            comment_count=comments,
            share_count=shares,
            view_count=views,
        )
