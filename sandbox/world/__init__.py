"""The sandbox's world, deterministic from one seed; the names tests and the CLI import.

The platform facts (age bands, genders, breakdowns, the demographics threshold) are the
catalog's, re-exported so tests can check the world against the same lists the pipeline uses.
"""

from analisa.core.catalog import AGE_BANDS, DEMOGRAPHICS_MIN_FOLLOWERS, GENDERS, PLATFORMS
from sandbox.world.audience import Audience
from sandbox.world.config import SandboxConfig
from sandbox.world.faults import FAULT_ENDPOINTS, FAULT_KINDS, Fault
from sandbox.world.model import Account, InstagramMedia, Post, TikTokVideo
from sandbox.world.names import name_tables
from sandbox.world.state import POLL_INTERVAL, SandboxWorld

NICHES: tuple[str, ...] = tuple(name_tables().niches)

__all__ = [
    "AGE_BANDS",
    "DEMOGRAPHICS_MIN_FOLLOWERS",
    "FAULT_ENDPOINTS",
    "FAULT_KINDS",
    "GENDERS",
    "NICHES",
    "PLATFORMS",
    "POLL_INTERVAL",
    "Account",
    "Audience",
    "Fault",
    "InstagramMedia",
    "Post",
    "SandboxConfig",
    "SandboxWorld",
    "TikTokVideo",
]
