"""The name tables the world draws from (countries, cities, people, niches), read from data files.

They live in `sandbox/data/*.json` so the vocabulary can grow without touching code; the order of
every list is part of the seed's meaning (the generator draws by position), so appending keeps
old worlds intact only if the draws already made do not reach the new entries.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any


@dataclass(frozen=True)
class Niche:
    """What a creator in one niche writes: caption openings, hashtags, emoji."""

    captions: tuple[str, ...]
    hashtags: tuple[str, ...]
    emoji: tuple[str, ...]


@dataclass(frozen=True)
class NameTables:
    countries: tuple[str, ...]
    """ISO codes; the first is the creators' home country, the largest share of every audience."""
    cities: dict[str, tuple[str, ...]]
    """Country code -> "City, Region" names as Instagram writes them (may be empty)."""
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    niches: dict[str, Niche]
    bio_places: tuple[str, ...]
    """Places a creator's bio names after the niche."""

    @property
    def home_country(self) -> str:
        return self.countries[0]


class NameTableError(ValueError):
    """A data file is missing a table or has the wrong shape."""


def _read(name: str) -> Any:
    text = files("sandbox").joinpath("data", name).read_text(encoding="utf-8")
    return json.loads(text)


def _strings(value: Any, what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise NameTableError(f"{what} must be a non-empty list of strings")
    return tuple(value)


@cache
def name_tables() -> NameTables:
    """The tables, read once per process; every world of the process shares them."""
    countries = _read("countries.json")
    if not isinstance(countries, list) or not countries:
        raise NameTableError("countries.json must be a non-empty list")
    codes = tuple(str(c["code"]) for c in countries)
    cities = {
        str(c["code"]): _strings(c["cities"], f"cities of {c['code']}") if c["cities"] else ()
        for c in countries
    }
    niches = {
        str(name): Niche(
            captions=_strings(spec["captions"], f"captions of niche {name}"),
            hashtags=_strings(spec["hashtags"], f"hashtags of niche {name}"),
            emoji=_strings(spec["emoji"], f"emoji of niche {name}"),
        )
        for name, spec in _read("niches.json").items()
    }
    if not niches:
        raise NameTableError("niches.json must name at least one niche")
    return NameTables(
        countries=codes,
        cities=cities,
        first_names=_strings(_read("first_names.json"), "first_names.json"),
        last_names=_strings(_read("last_names.json"), "last_names.json"),
        niches=niches,
        bio_places=_strings(_read("bio_places.json"), "bio_places.json"),
    )
