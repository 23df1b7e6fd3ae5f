"""The Instagram and TikTok clients and OAuth flows against a running platform sandbox.

Every expectation is the sandbox world's own truth: what the connectors collect must equal it.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from analisa.cli.sandbox_accounts import connect_sandbox_accounts
from analisa.core.settings import Settings
from connectors.instagram import InstagramClient, InstagramOAuth
from connectors.instagram import classify as ig_classify
from connectors.oauth_connect import code_from_redirect
from connectors.tiktok import TikTokClient, TikTokOAuth
from connectors.tiktok import classify as tt_classify
from connectors.tokens import OAuthError
from sandbox import SandboxConfig, SandboxServer
from sandbox.consent import approve
from sandbox.world import InstagramMedia, TikTokVideo

VERSION = "v23.0"


def authorize_code(http, request, redirect_uri, login_as, platform="sandbox") -> str:
    """Approve the consent page as `login_as`; the code of the redirect, its state checked."""
    location = approve(http, request.url, login_as)
    assert location.split("?")[0].split("#")[0] == redirect_uri.split("?")[0]
    return code_from_redirect(platform, request, location)


SMALL = SandboxConfig(influencers_per_platform=3, posts_per_influencer=23)


@pytest.fixture
def sandbox(request):
    config = getattr(request, "param", SMALL)
    with SandboxServer(config) as server:
        yield server


@pytest.fixture
def http():
    with httpx.Client(timeout=10) as client:
        yield client


@pytest.fixture
def settings(sandbox) -> Settings:
    return Settings(**sandbox.settings_overrides())


def big_account(world, platform):
    """The account with the most followers (demographics present)."""
    return max(world.accounts(platform), key=lambda a: a.followers)


def ig(sandbox, http, account=None, token=None, round_id="round-1") -> InstagramClient:
    world = sandbox.world
    account = account or big_account(world, "instagram")
    token = token or world.issue_token("instagram", account.account_id)
    graph = sandbox.settings_overrides()["INSTAGRAM_GRAPH_URL"]
    return InstagramClient(http, graph, VERSION, token, account.account_id, round_id, "task-1")


def tt(sandbox, http, account=None, token=None) -> TikTokClient:
    world = sandbox.world
    account = account or big_account(world, "tiktok")
    token = token or world.issue_token("tiktok", account.account_id)
    api = sandbox.settings_overrides()["TIKTOK_API_URL"]
    return TikTokClient(http, api, token, account.account_id, "round-1")


# --- connecting ---------------------------------------------------------------------------------


def test_connect_every_sandbox_account(sandbox, http, settings):
    world = sandbox.world
    connections = connect_sandbox_accounts(settings, http)
    expected = [
        (p, a.username, a.account_id) for p in ("instagram", "tiktok") for a in world.accounts(p)
    ]
    assert [(c.platform, c.username, c.token.account_id) for c in connections] == expected
    for connection in connections:
        token = connection.token
        if connection.platform == "instagram":
            lifetime = token.access_expires_at - datetime.now(UTC)
            assert timedelta(days=59) < lifetime <= timedelta(days=60)
            assert token.refresh_token is None
            assert "instagram_business_manage_insights" in token.scopes
            account = world.account("instagram", token.account_id)
            record = ig(sandbox, http, account, token.access_token).profile()
            assert record.body["username"] == connection.username
        else:
            assert token.refresh_token and "video.list" in token.scopes
            account = world.account("tiktok", token.account_id)
            record = tt(sandbox, http, account, token.access_token).user_info()
            assert record.body["data"]["user"]["username"] == connection.username


def test_instagram_code_exchange_alternates_between_the_documented_shapes(sandbox, http, settings):
    oauth = InstagramOAuth.from_settings(settings, http)
    account = sandbox.world.accounts("instagram")[0]
    bodies = []
    for _ in range(2):
        request = oauth.authorization_request()
        code = authorize_code(http, request, oauth.redirect_uri, account.username)
        form = {
            "client_id": oauth.client_id,
            "client_secret": oauth.client_secret,
            "grant_type": "authorization_code",
            "redirect_uri": oauth.redirect_uri,
            "code": code,
        }
        bodies.append(
            http.post(f"{settings.instagram_api_url}/oauth/access_token", data=form).json()
        )
    nested, flat = bodies
    assert nested["data"][0]["user_id"] == account.account_id
    assert isinstance(nested["data"][0]["permissions"], str)
    assert flat["user_id"] == int(account.account_id)
    assert isinstance(flat["permissions"], list)
    # And the client reads both.
    for _ in range(2):
        request = oauth.authorization_request()
        code = authorize_code(http, request, oauth.redirect_uri, account.username)
        assert oauth.exchange_code(code).account_id == account.account_id


def test_instagram_authorize_redirect_and_refusals(sandbox, http, settings):
    oauth = InstagramOAuth.from_settings(settings, http)
    username = sandbox.world.accounts("instagram")[0].username
    request = oauth.authorization_request(state="s-123")
    response = http.get(f"{request.url}&login_as={username}")
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(settings.oauth_redirect_uri + "?") and location.endswith("#_")
    assert parse_qs(urlsplit(location).query)["state"] == ["s-123"]
    no_state = request.url.replace("state=s-123", "")
    assert http.get(f"{no_state}&login_as={username}").status_code == 400
    assert http.get(request.url).status_code == 400  # no login_as
    wrong_app = request.url.replace("sandbox-instagram-app", "other-app")
    assert http.get(f"{wrong_app}&login_as={username}").status_code == 400


def test_instagram_code_is_single_use_and_checked(sandbox, http, settings):
    world = sandbox.world
    oauth = InstagramOAuth.from_settings(settings, http)
    username = world.accounts("instagram")[0].username

    def new_code(**kwargs):
        request = oauth.authorization_request(**kwargs)
        return authorize_code(http, request, oauth.redirect_uri, username), request

    code, _ = new_code()
    oauth.exchange_code(code)
    with pytest.raises(OAuthError) as reused:
        oauth.exchange_code(code)
    assert reused.value.code == 400 and "already used" in reused.value.message

    code, _ = new_code()
    wrong_secret = InstagramOAuth.from_settings(settings, http)
    wrong_secret.client_secret = "not-the-secret"
    with pytest.raises(OAuthError, match="client secret"):
        wrong_secret.exchange_code(code)

    elsewhere = InstagramOAuth.from_settings(settings, http)
    elsewhere.redirect_uri = "http://127.0.0.1:9/elsewhere"
    with pytest.raises(OAuthError, match="redirect_uri"):
        elsewhere.exchange_code(code)

    world.move_clock(timedelta(hours=1, seconds=1))
    with pytest.raises(OAuthError, match="expired"):
        oauth.exchange_code(code)

    code, request = new_code(pkce=True)
    with pytest.raises(OAuthError, match="code_verifier"):
        oauth.exchange_code(code, "a-wrong-verifier-" + "x" * 40)
    assert oauth.exchange_code(code, request.code_verifier).access_token


def test_instagram_long_lived_refresh_only_after_a_day(sandbox, http, settings):
    world = sandbox.world
    oauth = InstagramOAuth.from_settings(settings, http)
    account = world.accounts("instagram")[0]
    request = oauth.authorization_request()
    short = oauth.exchange_code(authorize_code(http, request, oauth.redirect_uri, account.username))
    long = oauth.exchange_long_lived(short)
    assert long.access_token != short.access_token
    with pytest.raises(OAuthError) as early:
        oauth.refresh(long)
    assert "24 hours" in early.value.message
    with pytest.raises(OAuthError) as short_refresh:
        oauth.refresh(short)
    assert short_refresh.value.code == 190
    world.move_clock(timedelta(hours=24, minutes=1))
    fresh = oauth.refresh(long)
    assert fresh.access_token != long.access_token
    assert ig(sandbox, http, account, fresh.access_token).profile().status == 200
    bad_secret = InstagramOAuth.from_settings(settings, http)
    bad_secret.client_secret = "nope"
    with pytest.raises(OAuthError, match="client secret"):
        bad_secret.exchange_long_lived(short)


def test_tiktok_pkce_and_code_checks(sandbox, http, settings):
    world = sandbox.world
    oauth = TikTokOAuth.from_settings(settings, http)
    account = world.accounts("tiktok")[0]
    request = oauth.authorization_request()
    assert "code_challenge=" in request.url and "code_challenge_method=S256" in request.url
    code = authorize_code(http, request, oauth.redirect_uri, account.username)
    with pytest.raises(OAuthError) as missing:
        oauth.exchange_code(code)
    assert missing.value.code == "invalid_grant"
    with pytest.raises(OAuthError, match="verifier"):
        oauth.exchange_code(code, "x" * 64)
    token = oauth.exchange_code(code, request.code_verifier)
    assert token.account_id == account.account_id
    with pytest.raises(OAuthError, match="used"):
        oauth.exchange_code(code, request.code_verifier)

    request = oauth.authorization_request()
    code = authorize_code(http, request, oauth.redirect_uri, account.username)
    wrong = TikTokOAuth.from_settings(settings, http)
    wrong.client_secret = "nope"
    with pytest.raises(OAuthError) as refused:
        wrong.exchange_code(code, request.code_verifier)
    assert refused.value.code == "invalid_client"
    world.move_clock(timedelta(minutes=10, seconds=1))
    with pytest.raises(OAuthError, match="expired"):
        oauth.exchange_code(code, request.code_verifier)


def test_tiktok_refresh_rotates_the_refresh_token(sandbox, http, settings):
    oauth = TikTokOAuth.from_settings(settings, http)
    account = sandbox.world.accounts("tiktok")[0]
    request = oauth.authorization_request()
    first = oauth.exchange_code(
        authorize_code(http, request, oauth.redirect_uri, account.username), request.code_verifier
    )
    second = oauth.refresh(first)
    assert second.refresh_token != first.refresh_token
    assert second.access_token != first.access_token
    assert second.account_id == account.account_id and second.scopes == first.scopes
    with pytest.raises(OAuthError) as stale:
        oauth.refresh(first)
    assert stale.value.code == "invalid_grant"
    assert oauth.refresh(second).refresh_token != second.refresh_token
    assert tt(sandbox, http, account, second.access_token).user_info().status == 200


# --- Instagram ----------------------------------------------------------------------------------


def test_profile_matches_the_world(sandbox, http):
    client = ig(sandbox, http)
    account = sandbox.world.account("instagram", client.account_id)
    record = client.profile()
    assert (record.platform, record.endpoint, record.account_id) == (
        "instagram",
        "user",
        account.account_id,
    )
    assert (record.round_id, record.task_id, record.status) == ("round-1", "task-1", 200)
    assert record.body == {
        "user_id": account.account_id,
        "username": account.username,
        "name": account.name,
        "account_type": account.account_type,
        "followers_count": account.followers,
        "follows_count": account.following,
        "media_count": account.posts,
        "id": account.app_scoped_id,
    }
    assert "access_token" not in record.request and record.request.startswith("GET ")
    assert ig_classify(record, client.last_headers) is None


def media_truth(media: InstagramMedia) -> dict:
    expected = {
        "id": media.media_id,
        "media_type": media.media_type,
        "media_product_type": media.media_product_type,
        "timestamp": media.timestamp.strftime("%Y-%m-%dT%H:%M:%S+0000"),
        "comments_count": media.comments_count,
        "permalink": media.permalink,
    }
    if media.caption is not None:
        expected["caption"] = media.caption
    if not media.likes_hidden:
        expected["like_count"] = media.like_count
    return expected


def collect_media(client, limit):
    pages = list(client.media_pages(limit=limit))
    assert all(ig_classify(p) is None for p in pages)
    return pages, [m for p in pages for m in p.body["data"]]


def test_media_pages_collect_exactly_the_live_posts(sandbox, http):
    world = sandbox.world
    client = ig(sandbox, http)
    truth = world.live_posts("instagram", client.account_id)
    pages, items = collect_media(client, limit=7)
    assert len(pages) == math.ceil(len(truth) / 7)
    assert items == [media_truth(m) for m in truth]
    assert "next" in pages[0].body["paging"] and "next" not in pages[-1].body["paging"]
    assert "after=" in pages[1].request and "access_token" not in pages[0].body_text
    hidden = [m for m in truth if m.likes_hidden]
    assert hidden, "the seed should hide some likes"
    by_id = {item["id"]: item for item in items}
    assert all("like_count" not in by_id[m.media_id] for m in hidden)

    world.advance()
    truth = world.live_posts("instagram", client.account_id)
    _, items = collect_media(client, limit=25)
    assert [i["id"] for i in items] == [m.media_id for m in truth]
    assert not {i["id"] for i in items} & world.deleted_post_ids("instagram", client.account_id)
    assert items == [media_truth(m) for m in truth]


def test_media_insights_match_the_world(sandbox, http):
    world = sandbox.world
    client = ig(sandbox, http)
    media = world.live_posts("instagram", client.account_id)[0]
    record = client.media_insights(media.media_id, media.media_type)
    assert (record.endpoint, record.object_id) == ("media_insights", media.media_id)
    values = {d["name"]: d["values"][0]["value"] for d in record.body["data"]}
    assert values == {
        "reach": media.reach,
        "saved": media.saved,
        "shares": media.shares,
        "views": media.views,
        "total_interactions": media.total_interactions,
    }
    first = record.body["data"][0]
    assert first["period"] == "lifetime"
    assert first["id"] == f"{media.media_id}/insights/reach/lifetime"


def test_deprecated_metrics_are_refused(sandbox, http):
    client = ig(sandbox, http)
    media = sandbox.world.live_posts("instagram", client.account_id)[0]
    response = http.get(
        f"{client.base}/{media.media_id}/insights",
        params={"metric": "reach,impressions"},
        headers=client._headers,
    )
    error = response.json()["error"]
    assert response.status_code == 400 and error["code"] == 100
    assert "impressions" in error["message"] and "no longer supported" in error["message"]


def test_audience_matches_the_world(sandbox, http):
    world = sandbox.world
    client = ig(sandbox, http)
    for breakdown in ("age", "gender", "country", "city", "age,gender"):
        record = client.audience(breakdown)
        assert ig_classify(record) is None
        metric = record.body["data"][0]
        assert metric["name"] == "follower_demographics"
        (result,) = metric["total_value"]["breakdowns"]
        assert result["dimension_keys"] == breakdown.split(",")
        got = [(tuple(r["dimension_values"]), r["value"]) for r in result["results"]]
        assert got == world.demographics(client.account_id, breakdown)
        assert got
    with pytest.raises(ValueError):
        client.audience("interests")


def test_audience_is_empty_below_100_followers(sandbox, http):
    small = min(sandbox.world.accounts("instagram"), key=lambda a: a.followers)
    assert small.followers < 100
    record = ig(sandbox, http, small).audience("age")
    assert ig_classify(record) is None
    assert record.body["data"][0]["total_value"]["breakdowns"][0]["results"] == []


def test_deleted_media_is_not_found(sandbox, http):
    world = sandbox.world
    client = ig(sandbox, http)
    live = world.live_posts("instagram", client.account_id)[5]
    record = client.media_object(live.media_id)
    assert record.object_id == live.media_id
    assert record.body == {
        "id": live.media_id,
        "timestamp": live.timestamp.strftime("%Y-%m-%dT%H:%M:%S+0000"),
        **({} if live.likes_hidden else {"like_count": live.like_count}),
        "comments_count": live.comments_count,
        "media_type": live.media_type,
    }
    world.advance()
    (deleted_id,) = world.deleted_post_ids("instagram", client.account_id)
    gone = client.media_object(deleted_id)
    assert gone.status == 400
    assert gone.body["error"]["code"] == 100 and gone.body["error"]["error_subcode"] == 33
    assert ig_classify(gone, client.last_headers).kind == "not_found"
    insights = client.media_insights(deleted_id, "IMAGE")
    assert ig_classify(insights, client.last_headers).kind == "not_found"


def test_business_discovery_of_another_account(sandbox, http):
    world = sandbox.world
    client = ig(sandbox, http)
    other = next(a for a in world.accounts("instagram") if a.account_id != client.account_id)
    record = client.business_discovery(other.username)
    assert record.account_id == other.account_id and record.endpoint == "user"
    assert ig_classify(record) is None
    found = record.body["business_discovery"]
    assert record.body["id"] == client.account_id
    assert (found["id"], found["followers_count"], found["media_count"]) == (
        other.account_id,
        other.followers,
        other.posts,
    )
    truth = world.live_posts("instagram", other.account_id)[:25]
    assert [m["id"] for m in found["media"]["data"]] == [m.media_id for m in truth]
    for item, media in zip(found["media"]["data"], truth, strict=True):
        assert ("like_count" in item) is (not media.likes_hidden)
    unknown = client.business_discovery("nobody.here")
    assert unknown.account_id == "username:nobody.here"
    assert ig_classify(unknown).kind == "other"


def test_another_accounts_data_is_refused(sandbox, http):
    world = sandbox.world
    client = ig(sandbox, http)
    other = next(a for a in world.accounts("instagram") if a.account_id != client.account_id)
    media = world.live_posts("instagram", other.account_id)[0]
    stranger = ig(sandbox, http, other, world.issue_token("instagram", client.account_id))
    for record in (
        stranger.profile(),  # /me is fine: it is the token's own account
        next(stranger.media_pages()),
        stranger.audience("age"),
        client.media_object(media.media_id),
        client.media_insights(media.media_id, media.media_type),
    ):
        problem = ig_classify(record)
        if record.endpoint == "user":
            assert problem is None
        else:
            assert problem.kind == "permission", record.body_text


def test_truncated_json_is_kept_as_received(sandbox, http):
    world = sandbox.world
    client = ig(sandbox, http)
    world.inject_fault("instagram", "user", "truncated_json")
    broken = client.profile()
    whole = client.profile()
    assert broken.status == 200
    assert broken.body_text == whole.body_text[: len(whole.body_text) // 2]
    assert broken.body is None
    assert ig_classify(broken).kind == "malformed"

    world.inject_fault("instagram", "media", "truncated_json", account_id=client.account_id)
    pages = list(client.media_pages(limit=5))
    assert len(pages) == 1 and ig_classify(pages[0]).kind == "malformed"


def test_injected_throttle_token_and_server_faults(sandbox, http):
    world = sandbox.world
    client = ig(sandbox, http)
    media = world.live_posts("instagram", client.account_id)[0]
    world.inject_fault("instagram", "media_insights", "throttle")
    throttled = client.media_insights(media.media_id, media.media_type)
    problem = ig_classify(throttled, client.last_headers)
    assert throttled.status == 400 and throttled.body["error"]["code"] == 4
    assert problem.kind == "throttled"
    assert problem.retry_after_seconds == world.config.throttle_fault_minutes * 60
    usage = json.loads(client.last_headers["x-business-use-case-usage"])[client.account_id][0]
    assert usage["call_count"] >= 100 and usage["estimated_time_to_regain_access"] > 0

    world.inject_fault("instagram", "user_insights", "token_expired")
    expired = client.audience("age")
    assert expired.body["error"]["code"] == 190 and expired.body["error"]["error_subcode"] == 463
    assert ig_classify(expired).kind == "token_invalid"

    world.inject_fault("instagram", "media_object", "server_error", count=2)
    problems = [ig_classify(client.media_object(media.media_id)) for _ in range(3)]
    assert [p.kind if p else None for p in problems] == ["server", "server", None]


def test_token_expiry_for_real(sandbox, http):
    world = sandbox.world
    client = ig(sandbox, http)
    world.move_clock(timedelta(days=61))
    record = client.profile()
    assert record.body["error"]["error_subcode"] == 463
    assert ig_classify(record).kind == "token_invalid"
    invalid = ig(sandbox, http, token="IGAAnot-a-token").profile()
    assert invalid.body["error"]["code"] == 190
    assert ig_classify(invalid).kind == "token_invalid"


@pytest.mark.parametrize(
    "sandbox",
    [SandboxConfig(influencers_per_platform=2, instagram_buc_calls_per_hour=4)],
    indirect=True,
)
def test_business_use_case_limit(sandbox, http):
    world = sandbox.world
    client = ig(sandbox, http)
    calls = [client.profile() for _ in range(4)]
    assert all(ig_classify(r) is None for r in calls)
    usage = json.loads(client.last_headers["x-business-use-case-usage"])[client.account_id][0]
    assert usage["call_count"] == 100 and usage["type"] == "instagram"
    blocked = client.profile()
    assert blocked.body["error"]["code"] == 80002
    usage = json.loads(client.last_headers["x-business-use-case-usage"])[client.account_id][0]
    assert usage["call_count"] >= 100 and usage["estimated_time_to_regain_access"] > 0
    problem = ig_classify(blocked, client.last_headers)
    assert problem.kind == "throttled" and problem.retry_after_seconds >= 60
    # Business Discovery is metered on the app, not on the account.
    other = world.accounts("instagram")[1]
    assert ig_classify(client.business_discovery(other.username)) is None
    app_usage = json.loads(client.last_headers["x-app-usage"])
    assert app_usage["call_count"] == 0  # 1 call of 100000 rounds down
    world.move_clock(timedelta(minutes=61))
    assert ig_classify(client.profile()) is None


@pytest.mark.parametrize(
    "sandbox",
    [SandboxConfig(influencers_per_platform=2, instagram_buc_calls_per_hour=10)],
    indirect=True,
)
def test_usage_headers_count_calls(sandbox, http):
    client = ig(sandbox, http)
    client.profile()
    client.profile()
    usage = json.loads(client.last_headers["x-business-use-case-usage"])[client.account_id][0]
    assert usage["call_count"] == 20 and usage["estimated_time_to_regain_access"] == 0


# --- TikTok -------------------------------------------------------------------------------------


def video_truth(video: TikTokVideo) -> dict:
    return {
        "id": video.video_id,
        "create_time": int(video.create_time.timestamp()),
        "title": video.title,
        "video_description": video.video_description,
        "duration": video.duration,
        "like_count": video.like_count,
        "comment_count": video.comment_count,
        "share_count": video.share_count,
        "view_count": video.view_count,
    }


def test_user_info_matches_the_world(sandbox, http):
    client = tt(sandbox, http)
    account = sandbox.world.account("tiktok", client.open_id)
    record = client.user_info()
    assert (record.platform, record.endpoint, record.account_id) == (
        "tiktok",
        "user_info",
        account.account_id,
    )
    assert tt_classify(record) is None
    assert record.body["error"]["code"] == "ok"
    assert record.body["data"]["user"] == {
        "open_id": account.account_id,
        "union_id": account.union_id,
        "display_name": account.name,
        "username": account.username,
        "follower_count": account.followers,
        "following_count": account.following,
        "likes_count": account.likes,
        "video_count": account.posts,
    }


def test_video_pages_collect_exactly_the_live_videos(sandbox, http):
    world = sandbox.world
    client = tt(sandbox, http)
    truth = world.live_posts("tiktok", client.open_id)
    pages = list(client.video_pages(max_count=7))
    assert len(pages) == math.ceil(len(truth) / 7)
    assert all(tt_classify(p) is None for p in pages)
    videos = [v for p in pages for v in p.body["data"]["videos"]]
    assert videos == [video_truth(v) for v in truth]
    assert [p.body["data"]["has_more"] for p in pages] == [True] * (len(pages) - 1) + [False]
    assert pages[0].body["data"]["cursor"] == videos[6]["create_time"] * 1000

    world.advance()
    # A poll is a day later: the 24 h access token has expired, as on the platform.
    assert tt_classify(client.user_info()).kind == "token_invalid"
    client = tt(sandbox, http, world.account("tiktok", client.open_id))
    truth = world.live_posts("tiktok", client.open_id)
    videos = [v for p in client.video_pages() for v in p.body["data"]["videos"]]
    assert videos == [video_truth(v) for v in truth]


def test_video_query_chunks_and_omits_deleted(sandbox, http):
    world = sandbox.world
    client = tt(sandbox, http)
    before = [v.video_id for v in world.live_posts("tiktok", client.open_id)]
    world.advance()
    client = tt(sandbox, http, world.account("tiktok", client.open_id))  # a day later: new token
    (deleted,) = world.deleted_post_ids("tiktok", client.open_id)
    ids = [*before, "7400000000000000000"]
    records = client.video_query(ids)
    assert len(records) == math.ceil(len(ids) / 20)
    assert all(r.endpoint == "video_query" and tt_classify(r) is None for r in records)
    returned = {v["id"]: v for r in records for v in r.body["data"]["videos"]}
    assert deleted not in returned
    assert set(returned) == set(before) - {deleted}
    for video in world.live_posts("tiktok", client.open_id):
        if video.video_id in returned:
            assert returned[video.video_id] == video_truth(video)
    (single,) = client.video_query([deleted])
    assert single.object_id == deleted and single.body["data"]["videos"] == []
    assert records[0].object_id is None


def test_tiktok_faults(sandbox, http):
    world = sandbox.world
    client = tt(sandbox, http)
    world.inject_fault("tiktok", "user_info", "truncated_json")
    broken, whole = client.user_info(), client.user_info()
    assert broken.status == 200
    # Only the log_id differs between the two answers (same length): compare before it.
    assert len(broken.body_text) == len(whole.body_text) // 2
    same = min(len(broken.body_text), whole.body_text.index('"log_id"'))
    assert broken.body_text[:same] == whole.body_text[:same]
    assert tt_classify(broken).kind == "malformed"

    world.inject_fault("tiktok", "video_list", "throttle")
    (page,) = list(client.video_pages())
    assert page.status == 429 and page.body["error"]["code"] == "rate_limit_exceeded"
    assert tt_classify(page).kind == "throttled" and tt_classify(page).retry_after_seconds == 60

    world.inject_fault("tiktok", "video_query", "token_expired")
    (expired,) = client.video_query(["1"])
    assert expired.status == 401 and tt_classify(expired).kind == "token_invalid"

    world.inject_fault("tiktok", "user_info", "server_error")
    assert tt_classify(client.user_info()).kind == "server"
    assert tt_classify(client.user_info()) is None


def test_tiktok_bad_params_scopes_and_tokens(sandbox, http):
    world = sandbox.world
    client = tt(sandbox, http)
    (too_many,) = list(client.video_pages(max_count=50))
    assert too_many.status == 400 and too_many.body["error"]["code"] == "invalid_params"
    assert tt_classify(too_many).kind == "other"
    basic_only = world.issue_token("tiktok", client.open_id, scopes=["user.info.basic"])
    limited = tt(sandbox, http, world.account("tiktok", client.open_id), basic_only)
    assert tt_classify(limited.user_info()).kind == "permission"
    assert tt_classify(limited.user_info("open_id,display_name")) is None
    invalid = tt(sandbox, http, token="act.nonsense")
    assert invalid.user_info().status == 401
    assert tt_classify(invalid.user_info()).kind == "token_invalid"
    world.move_clock(timedelta(hours=24, seconds=1))
    assert tt_classify(client.user_info()).kind == "token_invalid"


@pytest.mark.parametrize(
    "sandbox",
    [SandboxConfig(influencers_per_platform=2, tiktok_requests_per_minute=3)],
    indirect=True,
)
def test_tiktok_rate_limit_window(sandbox, http):
    world = sandbox.world
    client = tt(sandbox, http)
    assert [tt_classify(client.user_info()) for _ in range(3)] == [None, None, None]
    limited = client.user_info()
    assert limited.status == 429 and tt_classify(limited).kind == "throttled"
    # The window is per endpoint.
    assert tt_classify(next(client.video_pages())) is None
    world.move_clock(timedelta(seconds=61))
    assert tt_classify(client.user_info()) is None


# --- sandbox control ----------------------------------------------------------------------------


def test_control_endpoints(sandbox, http):
    world = sandbox.world
    base = sandbox.base_url
    listed = http.get(f"{base}/_sandbox/accounts").json()
    assert listed["instagram"] == [
        {"account_id": a.account_id, "username": a.username} for a in world.accounts("instagram")
    ]
    assert http.post(f"{base}/_sandbox/advance").json() == {"epoch": 1}
    assert world.epoch == 1
    fault = {"platform": "tiktok", "endpoint": "video_list", "kind": "server_error", "count": 2}
    assert http.post(f"{base}/_sandbox/faults", json=fault).status_code == 200
    assert world.pending_faults()[0].remaining == 2
    bad = {**fault, "kind": "meteor"}
    assert http.post(f"{base}/_sandbox/faults", json=bad).status_code == 400
    assert http.post(f"{base}/_sandbox/clock", json={"seconds": 3600}).status_code == 200


def test_unversioned_graph_paths_and_query_tokens(sandbox, http):
    world = sandbox.world
    account = big_account(world, "instagram")
    token = world.issue_token("instagram", account.account_id)
    graph = sandbox.settings_overrides()["INSTAGRAM_GRAPH_URL"]
    response = http.get(f"{graph}/me", params={"fields": "username", "access_token": token})
    assert response.json() == {"username": account.username, "id": account.app_scoped_id}
    assert "x-app-usage" in response.headers and "x-business-use-case-usage" in response.headers
    page = http.get(
        f"{graph}/{VERSION}/{account.account_id}/media",
        params={"fields": "id", "limit": 2, "access_token": token},
    ).json()
    # Like the platform, paging.next repeats the query, token included, when it came that way.
    assert "access_token=" in page["paging"]["next"]
    assert http.get(page["paging"]["next"]).json()["data"][0]["id"] == (
        world.live_posts("instagram", account.account_id)[2].media_id
    )
