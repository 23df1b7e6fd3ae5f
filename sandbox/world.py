"""The sandbox's world: influencers, posts, audiences and their evolution, all from one seed.

The sandbox server answers from this state and tests read it as the truth the connectors must
reproduce, so everything here is a plain dataclass and every random draw comes from one
`random.Random(seed)`.
"""

from __future__ import annotations

import math
import random
import string
import threading
import time
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import ClassVar

from sandbox.auth import AuthStore
from sandbox.limits import SlidingWindows

PLATFORMS = ("instagram", "tiktok")
FAULT_ENDPOINTS: dict[str, frozenset[str]] = {
    "instagram": frozenset({"user", "media", "media_insights", "user_insights", "media_object"}),
    "tiktok": frozenset({"user_info", "video_list", "video_query"}),
}
FAULT_KINDS = frozenset({"truncated_json", "throttle", "token_expired", "server_error"})
# One advance is one poll of the collector: a day of platform time.
POLL_INTERVAL = timedelta(days=1)

AGE_BANDS = ("13-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+")
GENDERS = ("F", "M", "U")
BREAKDOWNS = ("age", "gender", "country", "city", "age,gender")
# Instagram reports demographics only for accounts with at least this many followers.
DEMOGRAPHICS_MIN_FOLLOWERS = 100

_COUNTRIES = ("BR", "PT", "US", "AR", "MX", "ES", "CO", "AO", "IT", "FR")
_CITIES = {
    "BR": (
        "São Paulo, São Paulo",
        "Rio de Janeiro, Rio de Janeiro",
        "Belo Horizonte, Minas Gerais",
        "Salvador, Bahia",
        "Curitiba, Paraná",
        "Porto Alegre, Rio Grande do Sul",
        "Recife, Pernambuco",
        "Fortaleza, Ceará",
        "Brasília, Distrito Federal",
    ),
    "PT": ("Lisbon, Lisboa", "Porto, Porto"),
    "US": ("Miami, Florida", "New York, New York"),
    "AR": ("Buenos Aires, Buenos Aires",),
    "MX": ("Mexico City, Distrito Federal",),
    "ES": ("Madrid, Comunidad de Madrid",),
}

_NICHES: dict[str, dict[str, tuple[str, ...]]] = {
    "fitness": {
        "tags": ("#fitness", "#treino", "#academia", "#saude", "#workout"),
        "text": (
            "Novo treino de pernas hoje",
            "Leg day done",
            "Cinco exercícios para fazer em casa",
            "Morning run by the beach",
            "Dica rápida de alongamento",
        ),
        "emoji": ("💪", "🏋️", "🔥", "🏃"),
    },
    "comida": {
        "tags": ("#comida", "#receita", "#foodie", "#culinaria", "#food"),
        "text": (
            "Receita rápida de bolo de cenoura",
            "Best pastel in town",
            "Almoço de domingo em família",
            "Three ingredient pasta",
            "Brigadeiro gourmet passo a passo",
        ),
        "emoji": ("😋", "🍰", "🍝", "🥘"),
    },
    "moda": {
        "tags": ("#moda", "#lookdodia", "#fashion", "#estilo", "#ootd"),
        "text": (
            "Look do dia",
            "Outfit for the weekend",
            "Tendências de verão",
            "Three ways to wear a blazer",
            "Achados do brechó",
        ),
        "emoji": ("👗", "✨", "👠", "🛍️"),
    },
    "viagem": {
        "tags": ("#viagem", "#travel", "#ferias", "#wanderlust", "#turismo"),
        "text": (
            "Pôr do sol em Jericoacoara",
            "Weekend in Lisbon",
            "Roteiro de três dias em Ouro Preto",
            "Hidden beach in Bahia",
            "Mochilão pela Patagônia",
        ),
        "emoji": ("✈️", "🌅", "🏖️", "🗺️"),
    },
    "beleza": {
        "tags": ("#beleza", "#makeup", "#skincare", "#maquiagem", "#beauty"),
        "text": (
            "Rotina de skincare noturna",
            "Five minute makeup",
            "Testei a base nova",
            "My everyday glow routine",
            "Maquiagem para festa",
        ),
        "emoji": ("💄", "✨", "💅", "🌸"),
    },
    "tech": {
        "tags": ("#tech", "#tecnologia", "#gadgets", "#smartphone", "#setup"),
        "text": (
            "Review do celular novo",
            "My desk setup tour",
            "Vale a pena comprar em 2026?",
            "Unboxing the new headphones",
            "Três apps que uso todo dia",
        ),
        "emoji": ("📱", "💻", "🎧", "⚡"),
    },
    "games": {
        "tags": ("#games", "#gamer", "#twitch", "#gameplay", "#esports"),
        "text": (
            "Live de hoje foi insana",
            "Clutch of the week",
            "Zerando o jogo novo",
            "Top five indie games",
            "Setup gamer atualizado",
        ),
        "emoji": ("🎮", "🕹️", "🏆", "👾"),
    },
    "musica": {
        "tags": ("#musica", "#music", "#cover", "#sertanejo", "#violao"),
        "text": (
            "Cover de hoje, pedido de vocês",
            "New song snippet",
            "Ensaio para o show de sábado",
            "Acoustic session at home",
            "Samba na roda com os amigos",
        ),
        "emoji": ("🎶", "🎸", "🎤", "🥁"),
    },
}
NICHES = tuple(_NICHES)

_FIRST_NAMES = (
    "Ana",
    "Bruna",
    "Camila",
    "Diego",
    "Eduardo",
    "Fernanda",
    "Gabriel",
    "Helena",
    "Igor",
    "Julia",
    "Lucas",
    "Mariana",
    "Nina",
    "Otávio",
    "Paula",
    "Rafael",
    "Sofia",
    "Thiago",
    "Vitória",
    "Yasmin",
)
_LAST_NAMES = (
    "Silva",
    "Souza",
    "Oliveira",
    "Santos",
    "Lima",
    "Costa",
    "Ferreira",
    "Almeida",
    "Ribeiro",
    "Carvalho",
)


@dataclass
class SandboxConfig:
    seed: int = 7
    influencers_per_platform: int = 5
    posts_per_influencer: int = 40
    start: datetime = datetime(2026, 11, 1, tzinfo=UTC)
    deletions_per_advance: int = 1
    """Posts deleted per influencer at each advance."""
    new_posts_per_advance: int = 1
    """Posts published per influencer at each advance."""
    hidden_likes_fraction: float = 0.15
    low_follower_accounts: int = 1
    """Accounts per platform kept below 100 followers (Instagram shows them no demographics)."""
    instagram_buc_calls_per_hour: int = 100_000
    """Business Use Case calls per Instagram account per hour before error 80002."""
    instagram_app_calls_per_hour: int = 100_000
    """App-level (X-App-Usage) calls per hour before error 4; Business Discovery counts here."""
    tiktok_requests_per_minute: int = 600
    """Sliding one-minute window per endpoint per access token."""
    throttle_fault_minutes: int = 5
    """estimated_time_to_regain_access reported by an injected Instagram throttle fault."""
    instagram_client_id: str = "sandbox-instagram-app"
    instagram_client_secret: str = "sandbox-client-secret"
    tiktok_client_key: str = "sandbox-tiktok-app"
    tiktok_client_secret: str = "sandbox-client-secret"


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


@dataclass
class _Audience:
    """Fixed audience proportions; counts follow the account's current followers."""

    age_gender: dict[tuple[str, str], float]
    countries: dict[str, float]
    cities: dict[str, float]
    city_share: float


@dataclass
class Fault:
    platform: str
    endpoint: str
    kind: str
    remaining: int
    account_id: str | None = None


@dataclass
class _PlatformState:
    accounts: dict[str, Account] = field(default_factory=dict)
    posts: dict[str, dict[str, Post]] = field(default_factory=dict)
    """account_id -> post_id -> post, deleted ones included."""


def _ascii(text: str) -> str:
    """Usernames are ASCII on both platforms."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _allocate(total: int, weights: dict, keep_zero: bool = False) -> dict:
    """Split an integer total by weights exactly (largest remainder), for consistent sums."""
    weight_sum = sum(weights.values())
    if total <= 0 or weight_sum <= 0:
        return {}
    shares = {k: total * w / weight_sum for k, w in weights.items()}
    counts = {k: math.floor(v) for k, v in shares.items()}
    left = total - sum(counts.values())
    # Ties broken by key order so the split is deterministic.
    for key in sorted(shares, key=lambda k: counts[k] - shares[k])[:left]:
        counts[key] += 1
    return {k: v for k, v in counts.items() if v > 0 or keep_zero}


class SandboxWorld:
    """Deterministic platform state: same config, same answers; `advance()` moves one poll on."""

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self.lock = threading.RLock()
        self.epoch = 0
        self.auth = AuthStore()
        self.limits = SlidingWindows()
        self._rng = random.Random(self.config.seed)
        self._ids: set[str] = set()
        self._state = {p: _PlatformState() for p in PLATFORMS}
        self._audiences: dict[str, _Audience] = {}
        self._faults: list[Fault] = []
        # Lookup indexes, so large worlds (benchmarks) answer each request in constant time.
        self._post_owner: dict[tuple[str, str], str] = {}
        self._by_username: dict[tuple[str, str], str] = {}
        self._instagram_ids: dict[str, str] = {}
        self._clock_offset = timedelta(0)
        self._monotonic_start = time.monotonic()
        self._generate()

    # --- time -------------------------------------------------------------------------------

    @property
    def poll_time(self) -> datetime:
        """The platform's 'now' for data: posts are never newer than this."""
        return self.config.start + self.epoch * POLL_INTERVAL

    def now(self) -> datetime:
        """The clock for tokens, codes and rate windows: poll time plus real and moved time."""
        with self.lock:
            elapsed = timedelta(seconds=time.monotonic() - self._monotonic_start)
            return self.poll_time + self._clock_offset + elapsed

    def move_clock(self, delta: timedelta) -> None:
        """Let time pass without changing the data (token ages, code expiry, rate windows)."""
        with self.lock:
            self._clock_offset += delta

    # --- generation -------------------------------------------------------------------------

    def _new_id(self, make) -> str:
        while True:
            value = make()
            if value not in self._ids:
                self._ids.add(value)
                return value

    def _digits(self, n: int) -> str:
        return "".join(self._rng.choice(string.digits) for _ in range(n))

    def _generate(self) -> None:
        cfg = self.config
        for platform in PLATFORMS:
            for index in range(cfg.influencers_per_platform):
                low = index >= cfg.influencers_per_platform - cfg.low_follower_accounts
                account = self._new_account(platform, low)
                state = self._state[platform]
                state.accounts[account.account_id] = account
                self._by_username[(platform, account.username)] = account.account_id
                if platform == "instagram":
                    self._instagram_ids[account.account_id] = account.account_id
                    self._instagram_ids[account.app_scoped_id] = account.account_id
                state.posts[account.account_id] = {}
                posted = cfg.start - timedelta(seconds=self._rng.randint(3_600, 30 * 3_600))
                for _ in range(cfg.posts_per_influencer):
                    self._add_post(account, posted)
                    posted -= timedelta(seconds=self._rng.randint(6 * 3_600, 72 * 3_600))
                self._refresh_counts(account)

    def _new_account(self, platform: str, low: bool) -> Account:
        rng = self._rng
        niche = rng.choice(NICHES)
        first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
        taken = {a.username for a in self._state[platform].accounts.values()}
        patterns = [f"{first}.{niche}", f"{first}_{last}", f"{first}{last}.oficial"]
        base = _ascii(rng.choice([*patterns, f"{niche}.{first}"]).lower())
        username = base
        while username in taken:
            username = f"{base}{rng.randint(1, 99)}"
        if low:
            followers = rng.randint(20, 95)
        else:
            # Log-uniform: many mid-size creators, a few large ones.
            followers = int(math.exp(rng.uniform(math.log(5_000), math.log(2_000_000))))
        account = Account(
            platform=platform,
            account_id="",
            username=username,
            name=f"{first} {last}",
            followers=followers,
            following=rng.randint(50, 2_000),
            niche=niche,
            bio=f"{niche.capitalize()} | {rng.choice(['SP', 'RJ', 'MG', 'Lisboa', 'BA'])}",
            verified=followers > 500_000,
        )
        if platform == "instagram":
            account.account_id = self._new_id(lambda: "178414" + self._digits(11))
            account.app_scoped_id = self._new_id(lambda: rng.choice("123456789") + self._digits(15))
            account.account_type = rng.choice(["MEDIA_CREATOR", "MEDIA_CREATOR", "BUSINESS"])
            self._audiences[account.account_id] = self._new_audience()
        else:
            alphabet = string.ascii_letters + string.digits
            account.account_id = self._new_id(
                lambda: "-000" + "".join(rng.choice(alphabet) for _ in range(28))
            )
            account.union_id = self._new_id(
                lambda: "".join(rng.choice("0123456789abcdef") for _ in range(32))
            )
        return account

    def _new_audience(self) -> _Audience:
        rng = self._rng
        age_weights = [rng.uniform(0.2, 1.0) * w for w in (0.3, 2.5, 3.0, 1.6, 0.8, 0.4, 0.2)]
        female = rng.uniform(0.25, 0.75)
        gender_weights = {"F": female, "M": (1 - female) * 0.95, "U": (1 - female) * 0.05}
        age_gender = {
            (age, gender): age_w * g_w * rng.uniform(0.8, 1.2)
            for age, age_w in zip(AGE_BANDS, age_weights, strict=True)
            for gender, g_w in gender_weights.items()
        }
        countries = {"BR": rng.uniform(5.0, 9.0)}
        for code in rng.sample(_COUNTRIES[1:], rng.randint(3, 6)):
            countries[code] = rng.uniform(0.1, 1.0)
        cities: dict[str, float] = {}
        for code, weight in countries.items():
            for city in _CITIES.get(code, ()):
                cities[city] = weight * rng.uniform(0.1, 1.0)
        return _Audience(age_gender, countries, cities, rng.uniform(0.6, 0.85))

    def _caption(self, niche: str) -> tuple[str, str]:
        """A caption's text and its hashtags, mostly from the creator's niche."""
        rng = self._rng
        pool = _NICHES[niche]
        text = rng.choice(pool["text"])
        tags = rng.sample(pool["tags"], rng.randint(1, 3))
        if rng.random() < 0.2:
            tags.append(rng.choice(_NICHES[rng.choice(NICHES)]["tags"]))
        if rng.random() < 0.7:
            text = f"{text} {rng.choice(pool['emoji'])}"
        return text, " ".join(tags)

    def _add_post(self, account: Account, posted: datetime) -> Post:
        rng = self._rng
        age_days = max(0.0, (self.poll_time - posted).total_seconds() / 86_400)
        # Young posts have not collected their audience yet.
        maturity = 1 - 0.6 * math.exp(-age_days / 2)
        followers = max(account.followers, 1)
        text, tags = self._caption(account.niche)
        post: Post
        if account.platform == "instagram":
            media_type = rng.choices(["IMAGE", "CAROUSEL_ALBUM", "VIDEO"], [0.4, 0.25, 0.35])[0]
            product = "REELS" if media_type == "VIDEO" and rng.random() < 0.85 else "FEED"
            reach = max(1, int(followers * rng.uniform(0.08, 0.45) * maturity))
            likes = max(1, int(reach * rng.uniform(0.03, 0.15)))
            alphabet = string.ascii_letters + string.digits + "-_"
            post = InstagramMedia(
                media_id=self._new_id(lambda: "17" + rng.choice("89") + self._digits(14)),
                account_id=account.account_id,
                caption=None if rng.random() < 0.05 else f"{text} {tags}",
                media_type=media_type,
                media_product_type=product,
                timestamp=posted,
                shortcode=self._new_id(lambda: "".join(rng.choice(alphabet) for _ in range(11))),
                likes_hidden=rng.random() < self.config.hidden_likes_fraction,
                like_count=likes,
                comments_count=int(likes * rng.uniform(0.01, 0.08)),
                reach=reach,
                saved=int(likes * rng.uniform(0.01, 0.12)),
                shares=int(likes * rng.uniform(0.005, 0.08)),
                views=int(reach * rng.uniform(1.2, 2.8)) + 1,
            )
        else:
            views = max(1, int(followers * rng.uniform(0.1, 3.0) * maturity))
            likes = max(1, int(views * rng.uniform(0.03, 0.12)))
            post = TikTokVideo(
                video_id=self._new_id(lambda: "74" + self._digits(17)),
                account_id=account.account_id,
                create_time=posted,
                title=text,
                video_description=f"{text} {tags}",
                duration=rng.randint(7, 180),
                like_count=likes,
                comment_count=int(likes * rng.uniform(0.005, 0.05)),
                share_count=int(likes * rng.uniform(0.005, 0.1)),
                view_count=views,
            )
        self._state[account.platform].posts[account.account_id][post.post_id] = post
        self._post_owner[(account.platform, post.post_id)] = account.account_id
        return post

    def _refresh_counts(self, account: Account) -> None:
        live = [p for p in self._state[account.platform].posts[account.account_id].values()]
        live = [p for p in live if not p.deleted]
        account.posts = len(live)
        if account.platform == "tiktok":
            account.likes = sum(p.like_count for p in live)

    # --- evolution --------------------------------------------------------------------------

    def advance(self) -> int:
        """Move to the next poll: followers move, metrics grow, posts are deleted and published."""
        with self.lock:
            self.epoch += 1
            now = self.poll_time
            rng = self._rng
            cfg = self.config
            for platform in PLATFORMS:
                state = self._state[platform]
                for account in state.accounts.values():
                    if account.followers < DEMOGRAPHICS_MIN_FOLLOWERS:
                        # Small accounts stay small so they keep showing no demographics.
                        account.followers = min(99, max(0, account.followers + rng.randint(-1, 2)))
                    else:
                        change = round(account.followers * rng.uniform(-0.002, 0.012))
                        account.followers = max(0, account.followers + change)
                    account.following = max(0, account.following + rng.randint(-2, 3))
                    live = self._live(platform, account.account_id)
                    for post in live:
                        self._grow(post, now)
                    for post in rng.sample(live, min(cfg.deletions_per_advance, len(live))):
                        post.deleted_at = now
                    for i in range(cfg.new_posts_per_advance):
                        # Distinct seconds keep TikTok's time cursor unambiguous.
                        self._add_post(account, now - timedelta(minutes=7 * i))
                    self._refresh_counts(account)
            return self.epoch

    def _grow(self, post: Post, now: datetime) -> None:
        rng = self._rng
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

    def demographics(self, account_id: str, breakdown: str) -> list[tuple[tuple[str, ...], int]]:
        """Follower demographics as (dimension values, count); empty below 100 followers."""
        if breakdown not in BREAKDOWNS:
            raise ValueError(f"unknown breakdown {breakdown!r}")
        with self.lock:
            account = self._state["instagram"].accounts[account_id]
            audience = self._audiences[account_id]
            followers = account.followers
        if followers < DEMOGRAPHICS_MIN_FOLLOWERS:
            return []
        pairs = _allocate(followers, audience.age_gender, keep_zero=True)
        if breakdown == "age,gender":
            return [((a, g), pairs[(a, g)]) for a in AGE_BANDS for g in GENDERS if pairs[(a, g)]]
        if breakdown == "age":
            totals = {a: sum(pairs[(a, g)] for g in GENDERS) for a in AGE_BANDS}
            return [((a,), n) for a, n in totals.items() if n]
        if breakdown == "gender":
            totals = {g: sum(pairs[(a, g)] for a in AGE_BANDS) for g in GENDERS}
            return [((g,), n) for g, n in totals.items() if n]
        if breakdown == "country":
            counts = _allocate(followers, audience.countries)
        else:
            counts = _allocate(int(followers * audience.city_share), audience.cities)
        ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        return [((key,), n) for key, n in ordered]

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
        if platform not in FAULT_ENDPOINTS:
            raise ValueError(f"unknown platform {platform!r}")
        if endpoint not in FAULT_ENDPOINTS[platform]:
            raise ValueError(f"unknown {platform} endpoint {endpoint!r}")
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}")
        if count < 1:
            raise ValueError("count must be at least 1")
        with self.lock:
            self._faults.append(Fault(platform, endpoint, kind, count, account_id))

    def take_fault(self, platform: str, endpoint: str, account_id: str | None) -> str | None:
        """The kind of the first pending fault for this call, consuming one use of it."""
        with self.lock:
            for fault in self._faults:
                if (
                    fault.remaining > 0
                    and fault.platform == platform
                    and fault.endpoint == endpoint
                    and fault.account_id in (None, account_id)
                ):
                    fault.remaining -= 1
                    return fault.kind
            return None

    def pending_faults(self) -> list[Fault]:
        with self.lock:
            return [replace(f) for f in self._faults if f.remaining > 0]

    def clear_faults(self) -> None:
        with self.lock:
            self._faults.clear()

    # --- tokens -----------------------------------------------------------------------------

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

    def accounts_summary(self) -> dict[str, list[dict[str, str]]]:
        with self.lock:
            return {
                p: [
                    {"account_id": a.account_id, "username": a.username}
                    for a in self._state[p].accounts.values()
                ]
                for p in PLATFORMS
            }
