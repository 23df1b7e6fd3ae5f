"""Stories on the sandbox: live for 24 hours, their own metric set, refused per account with
the documented permission error, and never posts."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from connectors.instagram import InstagramClient
from connectors.instagram import classify as ig_classify
from sandbox import SandboxConfig, SandboxServer
from sandbox.world import SandboxWorld
from sandbox.world.stories import STORY_LIFETIME

VERSION = "v23.0"


@pytest.fixture
def sandbox():
    with SandboxServer(
        SandboxConfig(seed=5, influencers_per_platform=2, posts_per_influencer=3)
    ) as s:
        yield s


@pytest.fixture
def http():
    with httpx.Client(timeout=10) as client:
        yield client


def _client(sandbox, http, account) -> InstagramClient:
    token = sandbox.world.issue_token("instagram", account.account_id)
    graph = sandbox.settings_overrides()["INSTAGRAM_GRAPH_URL"]
    return InstagramClient(http, graph, VERSION, token, account.account_id, "r1", "t1")


def _listed(client) -> list[dict]:
    pages = list(client.story_pages(limit=1))
    assert all(ig_classify(p, client.last_headers) is None for p in pages)
    return [item for p in pages for item in p.body["data"]]


def test_stories_are_listed_while_they_live_and_gone_24_hours_later(sandbox, http):
    world = sandbox.world
    account = max(world.accounts("instagram"), key=lambda a: a.followers)
    client = _client(sandbox, http, account)
    truth = world.live_stories(account.account_id)
    assert len(truth) >= 2  # seed 5: enough to page one by one
    listed = _listed(client)
    assert [s["id"] for s in listed] == [s.story_id for s in truth]
    first = listed[0]
    assert set(first) == {"id", "media_type", "media_product_type", "timestamp", "permalink"}
    assert first["media_product_type"] == "STORY"
    assert first["timestamp"] == truth[0].timestamp.strftime("%Y-%m-%dT%H:%M:%S+0000")
    assert first["permalink"].endswith(f"/stories/{account.username}/{truth[0].story_id}/")

    # the oldest live story expires exactly 24 h after it was posted
    oldest = truth[-1]
    world.move_clock(oldest.expires_at - world.story_time())
    assert oldest.story_id not in [s["id"] for s in _listed(client)]
    expired = client.story_insights(oldest.story_id)
    assert ig_classify(expired).kind == "not_found"
    assert expired.body["error"]["error_subcode"] == 33

    # a day later every story of before is gone; stories are never posts
    world.move_clock(STORY_LIFETIME)
    now = {s["id"] for s in _listed(client)}
    assert now == {s.story_id for s in world.live_stories(account.account_id)}
    assert now.isdisjoint(s.story_id for s in truth)
    posts = {p.post_id for p in world.all_posts("instagram", account.account_id)}
    assert posts.isdisjoint(now)


def test_story_insights_take_the_story_set_only(sandbox, http):
    world = sandbox.world
    account = max(world.accounts("instagram"), key=lambda a: a.followers)
    client = _client(sandbox, http, account)
    story = next(s for s in world.live_stories(account.account_id) if s.reach >= 5)
    record = client.story_insights(story.story_id)
    assert ig_classify(record) is None
    values = {m["name"]: m["values"][0]["value"] for m in record.body["data"]}
    assert values == {
        "reach": story.reach,
        "replies": story.replies,
        "navigation": story.navigation,
        "shares": story.shares,
        "total_interactions": story.replies + story.shares,
        "views": story.views,
    }
    # a feed metric on a story, a story metric on a post: the whole call fails (error 100)
    token = client._headers
    base = f"{sandbox.settings_overrides()['INSTAGRAM_GRAPH_URL']}/{VERSION}"
    saved = http.get(
        f"{base}/{story.story_id}/insights", params={"metric": "reach,saved"}, headers=token
    )
    assert saved.status_code == 400 and saved.json()["error"]["code"] == 100
    assert "saved metric" in saved.json()["error"]["message"]
    post = world.live_posts("instagram", account.account_id)[0]
    replies = http.get(
        f"{base}/{post.post_id}/insights", params={"metric": "reach,replies"}, headers=token
    )
    assert replies.status_code == 400 and "replies metric" in replies.json()["error"]["message"]


def test_an_account_that_withholds_its_stories_answers_error_10(sandbox, http):
    world = sandbox.world
    account = world.accounts("instagram")[0]
    world.refuse_stories(account.account_id)
    client = _client(sandbox, http, account)
    (page,) = list(client.story_pages())
    problem = ig_classify(page, client.last_headers)
    assert (page.status, problem.kind, problem.code) == (400, "permission", 10)
    world.refuse_stories(account.account_id, refused=False)
    assert ig_classify(next(client.story_pages())) is None


def test_stories_are_the_same_for_the_same_seed_and_time():
    config = SandboxConfig(seed=5, influencers_per_platform=2, posts_per_influencer=3)
    a, b = SandboxWorld(config), SandboxWorld(config)
    for account in a.accounts("instagram"):
        at = a.story_time() + timedelta(hours=5)
        assert a.live_stories(account.account_id, at) == b.live_stories(account.account_id, at)
