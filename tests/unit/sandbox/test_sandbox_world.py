"""The sandbox world: deterministic from its seed, and evolving the way a poll sees it."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from sandbox.world import (
    AGE_BANDS,
    GENDERS,
    InstagramMedia,
    SandboxConfig,
    SandboxWorld,
    TikTokVideo,
)

PLATFORMS = ("instagram", "tiktok")


def snapshot(world: SandboxWorld) -> dict:
    return {
        p: [(a, world.all_posts(p, a.account_id)) for a in world.accounts(p)] for p in PLATFORMS
    }


def test_same_seed_same_world_and_different_seed_different_world():
    assert snapshot(SandboxWorld()) == snapshot(SandboxWorld())
    assert snapshot(SandboxWorld()) != snapshot(SandboxWorld(SandboxConfig(seed=8)))


def test_generation_leaves_the_global_random_alone():
    random.seed(123)
    expected = random.random()
    random.seed(123)
    SandboxWorld()
    assert random.random() == expected


def test_accounts_ids_and_counts():
    cfg = SandboxConfig(influencers_per_platform=4, posts_per_influencer=12)
    world = SandboxWorld(cfg)
    instagram, tiktok = world.accounts("instagram"), world.accounts("tiktok")
    assert len(instagram) == len(tiktok) == 4
    for account in instagram:
        assert len(account.account_id) == 17 and account.account_id.startswith("178414")
        assert account.account_id.isdigit() and account.app_scoped_id.isdigit()
        assert account.posts == 12 == len(world.live_posts("instagram", account.account_id))
    for account in tiktok:
        assert account.account_id.startswith("-000")
        videos = world.live_posts("tiktok", account.account_id)
        assert account.likes == sum(v.like_count for v in videos)
    for platform in PLATFORMS:
        usernames = [a.username for a in world.accounts(platform)]
        assert len(set(usernames)) == len(usernames)
        assert all(u.isascii() for u in usernames)
        low = [a for a in world.accounts(platform) if a.followers < 100]
        assert len(low) == cfg.low_follower_accounts


def test_posts_are_newest_first_before_start_with_distinct_times():
    world = SandboxWorld()
    for platform in PLATFORMS:
        for account in world.accounts(platform):
            posts = world.live_posts(platform, account.account_id)
            times = [p.posted_at for p in posts]
            assert times == sorted(times, reverse=True)
            assert len(set(times)) == len(times)
            assert all(t < world.config.start for t in times)


def test_instagram_posts_look_like_instagram():
    world = SandboxWorld(SandboxConfig(influencers_per_platform=6, posts_per_influencer=60))
    media = [
        m for a in world.accounts("instagram") for m in world.live_posts("instagram", a.account_id)
    ]
    assert all(isinstance(m, InstagramMedia) for m in media)
    assert {m.media_type for m in media} == {"IMAGE", "VIDEO", "CAROUSEL_ALBUM"}
    assert {m.media_product_type for m in media} == {"FEED", "REELS"}
    assert all(m.media_product_type == "FEED" for m in media if m.media_type != "VIDEO")
    hidden = sum(m.likes_hidden for m in media) / len(media)
    assert 0.07 < hidden < 0.25
    captions = [m.caption for m in media if m.caption]
    assert all("#" in c for c in captions)
    assert all(m.views >= m.reach > 0 for m in media)


def test_demographics_are_consistent_and_empty_for_small_accounts():
    world = SandboxWorld()
    for account in world.accounts("instagram"):
        rows = {b: world.demographics(account.account_id, b) for b in ("age", "gender")}
        pairs = world.demographics(account.account_id, "age,gender")
        if account.followers < 100:
            assert rows["age"] == rows["gender"] == pairs == []
            assert world.demographics(account.account_id, "city") == []
            continue
        assert sum(n for _, n in rows["age"]) == account.followers
        assert sum(n for _, n in rows["gender"]) == account.followers
        assert {v[0] for v, _ in rows["age"]} <= set(AGE_BANDS)
        assert {v[0] for v, _ in rows["gender"]} <= set(GENDERS)
        for (age,), n in rows["age"]:
            assert n == sum(count for (a, _), count in pairs if a == age)
        countries = world.demographics(account.account_id, "country")
        assert all(len(c) == 2 and c.isupper() for (c,), _ in countries)
        assert sum(n for _, n in countries) == account.followers
        cities = world.demographics(account.account_id, "city")
        assert cities and all(", " in city for (city,), _ in cities)


def test_advance_grows_metrics_deletes_and_publishes():
    cfg = SandboxConfig(deletions_per_advance=2, new_posts_per_advance=3)
    world = SandboxWorld(cfg)
    before = {
        p: {a.account_id: world.live_posts(p, a.account_id) for a in world.accounts(p)}
        for p in PLATFORMS
    }
    assert world.advance() == 1
    now = world.poll_time
    assert now == cfg.start + timedelta(days=1)
    for platform in PLATFORMS:
        for account in world.accounts(platform):
            old = {p.post_id: p for p in before[platform][account.account_id]}
            live = world.live_posts(platform, account.account_id)
            live_ids = {p.post_id for p in live}
            deleted = world.deleted_post_ids(platform, account.account_id)
            assert len(deleted) == 2 and deleted <= set(old) and not deleted & live_ids
            new = [p for p in live if p.post_id not in old]
            assert len(new) == 3
            assert max(p.posted_at for p in new) == now
            assert all(p.posted_at <= now for p in live)
            assert account.posts == len(old) - 2 + 3 == len(live)
            for post in live:
                if post.post_id not in old:
                    continue
                previous = old[post.post_id]
                if isinstance(post, TikTokVideo):
                    assert post.view_count > previous.view_count
                    assert post.like_count > previous.like_count
                    assert post.comment_count >= previous.comment_count
                else:
                    assert post.reach > previous.reach and post.views > previous.views
                    assert post.like_count > previous.like_count
                    assert post.saved >= previous.saved and post.shares >= previous.shares
            for post_id in deleted:
                assert world.post(platform, post_id).deleted_at == now


def test_advance_is_deterministic_and_small_accounts_stay_small():
    one, two = SandboxWorld(), SandboxWorld()
    for _ in range(5):
        one.advance()
        two.advance()
    assert snapshot(one) == snapshot(two)
    small = [a for a in one.accounts("instagram") if a.followers < 100]
    assert len(small) == one.config.low_follower_accounts
    assert one.demographics(small[0].account_id, "age") == []


def test_followers_mostly_grow():
    world = SandboxWorld(SandboxConfig(influencers_per_platform=10))
    start = {a.account_id: a.followers for p in PLATFORMS for a in world.accounts(p)}
    for _ in range(10):
        world.advance()
    end = {a.account_id: a.followers for p in PLATFORMS for a in world.accounts(p)}
    grown = sum(end[k] > start[k] for k in start if start[k] >= 100)
    assert grown >= 0.8 * sum(1 for k in start if start[k] >= 100)


def test_faults_are_validated_and_consumed():
    world = SandboxWorld()
    with pytest.raises(ValueError):
        world.inject_fault("instagram", "video_list", "throttle")
    with pytest.raises(ValueError):
        world.inject_fault("tiktok", "video_list", "explode")
    world.inject_fault("tiktok", "video_list", "throttle", count=2, account_id="-000x")
    assert world.take_fault("tiktok", "video_list", "-000y") is None
    assert world.take_fault("tiktok", "video_list", "-000x") == "throttle"
    assert world.take_fault("tiktok", "video_list", "-000x") == "throttle"
    assert world.take_fault("tiktok", "video_list", "-000x") is None
    assert world.pending_faults() == []


def test_clock_moves_without_changing_data():
    world = SandboxWorld()
    before = snapshot(world)
    now = world.now()
    world.move_clock(timedelta(hours=25))
    assert world.now() - now >= timedelta(hours=25)
    assert snapshot(world) == before
