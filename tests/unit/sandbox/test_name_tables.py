"""The sandbox's name tables (sandbox/data/*.json) and the platform facts it takes from the catalog."""

from __future__ import annotations

import pytest

from analisa.core import catalog
from sandbox.world import FAULT_ENDPOINTS, NICHES, SandboxWorld, names
from sandbox.world.names import NameTableError, name_tables


def test_tables_load_with_their_shapes():
    tables = name_tables()
    assert tables.home_country == "BR"
    assert tables.countries == ("BR", "PT", "US", "AR", "MX", "ES", "CO", "AO", "IT", "FR")
    assert len(tables.cities["BR"]) == 9 and tables.cities["CO"] == ()
    assert all(", " in city for cities in tables.cities.values() for city in cities)
    assert len(tables.first_names) == 20 and len(tables.last_names) == 10
    assert "Otávio" in tables.first_names  # read as UTF-8, not mangled
    assert NICHES == ("fitness", "comida", "moda", "viagem", "beleza", "tech", "games", "musica")
    for niche in tables.niches.values():
        assert len(niche.captions) == 5 and len(niche.hashtags) == 5 and len(niche.emoji) == 4
        assert all(tag.startswith("#") for tag in niche.hashtags)


def test_a_malformed_table_is_refused(monkeypatch):
    real = names._read

    def broken(name: str):
        return [] if name == "last_names.json" else real(name)

    monkeypatch.setattr(names, "_read", broken)
    with pytest.raises(NameTableError, match=r"last_names\.json must be a non-empty list"):
        name_tables.__wrapped__()


def test_default_seed_gives_the_world_it_gave_before_the_tables_moved_to_files():
    """Pinned from the single-module sandbox: the same seed must keep giving the same world."""
    world = SandboxWorld()
    instagram = world.accounts("instagram")
    assert [a.username for a in instagram] == [
        "eduardo.tech",
        "eduardocarvalho.oficial",
        "diego.musica",
        "thiagooliveira.oficial",
        "ninaoliveira.oficial",
    ]
    first = instagram[0]
    assert (first.account_id, first.followers, first.bio) == (
        "17841459083016613",
        7717,
        "Tech | SP",
    )
    newest = world.live_posts("instagram", first.account_id)[0]
    assert newest.caption == "Vale a pena comprar em 2026? ⚡ #smartphone"
    assert (newest.media_id, newest.reach, newest.views) == ("17866712768426846", 1816, 3825)
    assert world.demographics(first.account_id, "country") == [
        (("BR",), 5112),
        (("MX",), 680),
        (("AR",), 604),
        (("CO",), 556),
        (("IT",), 472),
        (("PT",), 293),
    ]
    assert [a.username for a in world.accounts("tiktok")][:2] == [
        "yasmincosta.oficial",
        "lucas.comida",
    ]


def test_fault_endpoints_are_the_catalog_endpoints():
    for platform in catalog.PLATFORMS:
        assert FAULT_ENDPOINTS[platform] == {e.name for e in catalog.endpoints(platform)}
    world = SandboxWorld()
    world.inject_fault("instagram", "user_insights", "server_error")
    assert world.take_fault("instagram", "user_insights", None) == "server_error"
    with pytest.raises(ValueError, match="unknown tiktok endpoint 'media'"):
        world.inject_fault("tiktok", "media", "throttle")


def test_breakdowns_are_the_catalog_breakdowns():
    world = SandboxWorld()
    account = max(world.accounts("instagram"), key=lambda a: a.followers)
    for breakdown in catalog.AUDIENCE_BREAKDOWNS:
        rows = world.demographics(account.account_id, breakdown)
        assert rows and all(len(values) == len(breakdown.split(",")) for values, _ in rows)
    with pytest.raises(ValueError, match="unknown breakdown 'region'"):
        world.demographics(account.account_id, "region")
