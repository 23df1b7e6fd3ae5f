"""Follower demographics: fixed proportions per account, turned into counts of its followers.

Counts are split by largest remainder so every breakdown sums exactly to the followers (or to the
located share of them, for cities), which lets tests check totals to the unit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from analisa.core.catalog import (
    AGE_BANDS,
    AUDIENCE_BREAKDOWNS,
    DEMOGRAPHICS_MIN_FOLLOWERS,
    GENDERS,
)

DemographicRows = list[tuple[tuple[str, ...], int]]


@dataclass
class Audience:
    """Fixed audience proportions; counts follow the account's current followers."""

    age_gender: dict[tuple[str, str], float]
    countries: dict[str, float]
    cities: dict[str, float]
    city_share: float
    """The share of followers Instagram can place in a city."""


def allocate(total: int, weights: dict, keep_zero: bool = False) -> dict:
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


def follower_counts(audience: Audience, followers: int, breakdown: str) -> DemographicRows:
    """One breakdown as (dimension values, count), in the platform's order; empty below 100."""
    if breakdown not in AUDIENCE_BREAKDOWNS:
        raise ValueError(f"unknown breakdown {breakdown!r}")
    if followers < DEMOGRAPHICS_MIN_FOLLOWERS:
        return []
    pairs = allocate(followers, audience.age_gender, keep_zero=True)
    if breakdown == "age,gender":
        return [((a, g), pairs[(a, g)]) for a in AGE_BANDS for g in GENDERS if pairs[(a, g)]]
    if breakdown == "age":
        totals = {a: sum(pairs[(a, g)] for g in GENDERS) for a in AGE_BANDS}
        return [((a,), n) for a, n in totals.items() if n]
    if breakdown == "gender":
        totals = {g: sum(pairs[(a, g)] for a in AGE_BANDS) for g in GENDERS}
        return [((g,), n) for g, n in totals.items() if n]
    if breakdown == "country":
        counts = allocate(followers, audience.countries)
    else:
        counts = allocate(int(followers * audience.city_share), audience.cities)
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [((key,), n) for key, n in ordered]
