"""How big a sandbox world is, how it evolves, and the limits and app credentials it enforces."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime


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
    instagram_app_counts_every_call: bool = False
    """Off: only Business Discovery counts against the app's limit (the seeded default);
    on: every call does too, as on the platform, so code 4 can stop all accounts at once."""
    tiktok_requests_per_minute: int = 600
    """Sliding one-minute window per endpoint per access token."""
    throttle_fault_minutes: int = 5
    """estimated_time_to_regain_access reported by an injected Instagram throttle fault."""
    planted_truths: bool = False
    """Add Instagram accounts with known truths gold must find (sandbox/world/planted.py): a
    follower spike, engagement far outside its tier, sponsored posts with disclosure markers,
    an audience inside one target exactly, a fitness-only creator. Off by default: the seeded
    worlds tests pin stay as they are; the planted accounts draw from their own random source."""
    planted_twins: bool = False
    """Add two Instagram creators who post the same things in other words (sandbox/world/twins.py),
    for lookalike search. Off by default; their own random source, like the planted truths."""
    planted_spike_epoch: int = 3
    """The advance at which the planted spike account gains half its followers in a day."""
    instagram_client_id: str = "sandbox-instagram-app"

    instagram_client_secret: str = "sandbox-client-secret"
    facebook_app_id: str = "sandbox-facebook-app"
    """Facebook Login (Instagram API with Facebook Login), the door to Business Discovery."""
    facebook_app_secret: str = "sandbox-client-secret"
    time_scale: float = 1.0
    """Sandbox seconds per real second: 3600 lets an hour of rate limits pass in a second."""
    tiktok_client_key: str = "sandbox-tiktok-app"
    tiktok_client_secret: str = "sandbox-client-secret"
