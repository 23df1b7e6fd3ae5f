"""Planted truths: Instagram accounts whose anomalies and matches are known, so a test can ask
whether gold finds each (SandboxConfig.planted_truths).

They draw from their own random source, never the world's: a world with them planted has the
very same default accounts, posts and evolution as one without. All are micro-tier (10k-100k
followers), so together they form a tier the quality signals can judge engagement against.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

from analisa.core.catalog import AGE_BANDS, GENDERS
from sandbox.world.audience import Audience
from sandbox.world.generation import WorldGenerator
from sandbox.world.model import Account, InstagramMedia, Post

SPIKE, OUTLIER, SPONSOR, MATCH, FITNESS, PEER = (
    "planted.spike",
    "planted.outlier",
    "planted.sponsor",
    "planted.match",
    "planted.fitness",
    "planted.peer",
)

# The exact target of planted.match: every follower a 25-34 woman in São Paulo, Brazil.
MATCH_TARGET = {"age": "25-34", "gender": "F", "country": "BR", "city": "São Paulo, São Paulo"}

OUTLIER_ENGAGEMENT = 12
"""planted.outlier's likes, comments and shares: this many times what its reach would give."""
SPONSORED_ENGAGEMENT = 0.5
"""planted.sponsor's sponsored posts get this share of an organic post's interactions."""
SPIKE_GAIN = 0.5
"""planted.spike gains this share of its followers at SandboxConfig.planted_spike_epoch."""

# Captions with no word of any other interest of the taxonomy.
_LIFESTYLE = (
    ("Meu dia a dia", "#lifestyle #rotina"),
    ("Rotina da manhã com calma", "#lifestyle"),
    ("Everyday life, slow sunday", "#lifestyle #vida"),
)
_FITNESS = (
    ("Treino de pernas hoje", "#fitness #treino"),
    ("Leg day done", "#workout #gym"),
    ("Dica de alongamento depois da corrida", "#fitness"),
)
# One marker of each kind: a hashtag (pt), a phrase written in the text, a hashtag (en).
SPONSORED_CAPTIONS = (
    ("Nova coleção com @marcaexemplo", "#publi"),
    ("Parceria paga com @marcaexemplo: meu café da manhã", "#lifestyle"),
    ("Trying the new app from @brandexample", "#ad"),
)
SPONSORED_MARKERS = ("#publi", "parceria paga", "#ad")


@dataclass(frozen=True)
class _Plant:
    username: str
    followers: int
    captions: tuple[tuple[str, str], ...]
    niche: str | None = None


PLANTS = (
    _Plant(SPIKE, 30_000, _LIFESTYLE),
    _Plant(OUTLIER, 40_000, _LIFESTYLE),
    _Plant(SPONSOR, 50_000, _LIFESTYLE),
    _Plant(MATCH, 60_000, _LIFESTYLE),
    _Plant(FITNESS, 25_000, _FITNESS),
    _Plant(PEER, 70_000, _LIFESTYLE),
)


def _exact_audience() -> Audience:
    age_gender = {
        (age, gender): 1.0 if (age, gender) == (MATCH_TARGET["age"], MATCH_TARGET["gender"]) else 0
        for age in AGE_BANDS
        for gender in GENDERS
    }
    return Audience(
        age_gender, {MATCH_TARGET["country"]: 1.0}, {MATCH_TARGET["city"]: 1.0}, city_share=0.8
    )


class PlantedTruths:
    """Makes the planted accounts and their posts, and moves them on at each advance."""

    plants: tuple[_Plant, ...] = PLANTS
    source = "planted"

    def __init__(self, seed: int, ids: set[str], spike_epoch: int) -> None:
        self.rng = random.Random(f"{self.source}-{seed}")
        self._generator = WorldGenerator(self.rng, hidden_likes_fraction=0.0, ids=ids)
        self._spike_epoch = spike_epoch
        self._post_counts: dict[str, int] = {}
        self.account_ids: set[str] = set()

    def accounts(self) -> list[tuple[Account, Audience]]:
        """The planted accounts with their audiences, in PLANTS order."""
        made = []
        for plant in self.plants:
            account_id, app_scoped_id = self._generator.instagram_ids()
            account = Account(
                platform="instagram",
                account_id=account_id,
                username=plant.username,
                name=plant.username.replace(".", " ").title(),
                followers=plant.followers,
                following=self.rng.randint(100, 900),
                niche=plant.niche or ("fitness" if plant.username == FITNESS else "lifestyle"),
                app_scoped_id=app_scoped_id,
                bio="Planted truth of the sandbox",
            )
            audience = _exact_audience() if plant.username == MATCH else self._generator.audience()
            self.account_ids.add(account_id)
            made.append((account, audience))
        return made

    def post(self, account: Account, posted: datetime, now: datetime) -> Post:
        """The account's next post: its captions in turn, its planted engagement applied."""
        plant = next(p for p in self.plants if p.username == account.username)
        n = self._post_counts.get(account.account_id, 0)
        self._post_counts[account.account_id] = n + 1
        sponsored = plant.username == SPONSOR and n % 3 == 0
        if sponsored:
            caption = SPONSORED_CAPTIONS[(n // 3) % len(SPONSORED_CAPTIONS)]
        else:
            caption = plant.captions[n % len(plant.captions)]
        post = self._generator.post(account, posted, now, caption=caption)
        assert isinstance(post, InstagramMedia)
        factor = (
            OUTLIER_ENGAGEMENT
            if plant.username == OUTLIER
            else SPONSORED_ENGAGEMENT
            if sponsored
            else 1
        )
        if factor != 1:
            post.like_count = max(1, round(post.like_count * factor))
            post.comments_count = round(post.comments_count * factor)
            post.shares = round(post.shares * factor)
        return post

    def after_followers_moved(self, account: Account, epoch: int) -> None:
        """The planted spike: half the followers again, in one day."""
        if account.username == SPIKE and epoch == self._spike_epoch:
            account.followers += round(account.followers * SPIKE_GAIN)
