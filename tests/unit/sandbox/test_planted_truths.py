"""Planted truths are an option: off, the seeded world is what tests pin; on, the same default
accounts and posts plus the planted ones, each holding the truth it is planted for."""

from __future__ import annotations

import itertools

from sandbox.world import SandboxConfig, SandboxWorld
from sandbox.world import planted as p

SMALL = {"seed": 11, "influencers_per_platform": 2, "posts_per_influencer": 12}


def worlds(advances: int):
    plain = SandboxWorld(SandboxConfig(**SMALL))
    seeded = SandboxWorld(SandboxConfig(**SMALL, planted_truths=True))
    for world in (plain, seeded):
        for _ in range(advances):
            world.advance()
    return plain, seeded


def by_name(world):
    return {a.username: a for a in world.accounts("instagram")}


def test_off_by_default_and_the_default_accounts_unchanged_when_on():
    assert SandboxConfig().planted_truths is False
    plain, seeded = worlds(4)
    for platform in ("instagram", "tiktok"):
        for account in plain.accounts(platform):
            assert seeded.account(platform, account.account_id) == account
            assert seeded.all_posts(platform, account.account_id) == plain.all_posts(
                platform, account.account_id
            )
    assert set(by_name(seeded)) - set(by_name(plain)) == {plant.username for plant in p.PLANTS}


def test_each_planted_truth_holds():
    world = SandboxWorld(SandboxConfig(**SMALL, planted_truths=True))
    spike = world.account_by_username("instagram", p.SPIKE)
    followers = []
    for _ in range(5):
        world.advance()
        followers.append(world.account("instagram", spike.account_id).followers)
    gains = [b - a for a, b in itertools.pairwise(followers)]
    # followers after epochs 1..5: gains[1] is the day of epoch 3, about half the followers
    assert gains[1] > 0.45 * followers[1] and max(gains[:1] + gains[2:]) < 0.02 * followers[-1]

    accounts = by_name(world)
    match = accounts[p.MATCH]
    assert world.demographics(match.account_id, "age") == [(("25-34",), match.followers)]
    assert world.demographics(match.account_id, "gender") == [(("F",), match.followers)]
    assert world.demographics(match.account_id, "country") == [(("BR",), match.followers)]
    [((city,), _)] = world.demographics(match.account_id, "city")
    assert city == "São Paulo, São Paulo"

    sponsor_posts = world.all_posts("instagram", accounts[p.SPONSOR].account_id)
    markers = [m for post in sponsor_posts for m in p.SPONSORED_MARKERS if m in post.caption]
    assert set(markers) == {"#publi", "#ad"} and any(
        "Parceria paga" in post.caption for post in sponsor_posts
    )
    fitness = world.all_posts("instagram", accounts[p.FITNESS].account_id)
    # 5 % of Instagram posts have no caption at all (the generator's rule): they name no topic
    assert {post.caption for post in fitness} <= {f"{t} {h}" for t, h in p._FITNESS} | {None}
