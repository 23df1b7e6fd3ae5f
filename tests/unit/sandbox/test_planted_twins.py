"""Planted twins are an option: off, the seeded world is what tests pin; on, the same default
and planted accounts and posts plus two creators who post the same things in other words."""

from __future__ import annotations

from sandbox.world import SandboxConfig, SandboxWorld
from sandbox.world import planted as p
from sandbox.world import twins as t

SMALL = {"seed": 11, "influencers_per_platform": 2, "posts_per_influencer": 12}


def _advanced(**options) -> SandboxWorld:
    world = SandboxWorld(SandboxConfig(**SMALL, **options))
    for _ in range(3):
        world.advance()
    return world


def test_off_by_default_and_every_other_account_unchanged_when_on():
    assert SandboxConfig().planted_twins is False
    for base in ({}, {"planted_truths": True}):
        plain, twinned = _advanced(**base), _advanced(**base, planted_twins=True)
        for platform in ("instagram", "tiktok"):
            for account in plain.accounts(platform):
                assert twinned.account(platform, account.account_id) == account
                assert twinned.all_posts(platform, account.account_id) == plain.all_posts(
                    platform, account.account_id
                )
        added = {a.username for a in twinned.accounts("instagram")} - {
            a.username for a in plain.accounts("instagram")
        }
        assert added == {t.ORIGINAL, t.TWIN}
    both = _advanced(planted_truths=True, planted_twins=True)
    assert {plant.username for plant in p.PLANTS} <= {
        a.username for a in both.accounts("instagram")
    }


def test_the_twin_says_what_the_original_says_in_other_words():
    world = _advanced(planted_twins=True)
    original = world.account_by_username("instagram", t.ORIGINAL)
    twin = world.account_by_username("instagram", t.TWIN)
    captions = {
        name: {post.caption for post in world.all_posts("instagram", account.account_id)}
        for name, account in ((t.ORIGINAL, original), (t.TWIN, twin))
    }
    assert len(t._ORIGINAL) == len(t._TWIN)
    assert not captions[t.ORIGINAL] & captions[t.TWIN]  # never the same words
    spoken = {f"{text} {tags}" for text, tags in t._ORIGINAL}
    rephrased = {f"{text} {tags}" for text, tags in t._TWIN}
    # 12 posts and 3 new ones each: every line was posted (a few captions are dropped, 5 %)
    assert len(captions[t.ORIGINAL] & spoken) >= 4 and captions[t.ORIGINAL] <= spoken | {None}
    assert len(captions[t.TWIN] & rephrased) >= 4 and captions[t.TWIN] <= rephrased | {None}
    assert SandboxWorld(SandboxConfig(**SMALL, planted_twins=True)).account_by_username(
        "instagram", t.TWIN
    ) == SandboxWorld(SandboxConfig(**SMALL, planted_twins=True)).account_by_username(
        "instagram", t.TWIN
    )
