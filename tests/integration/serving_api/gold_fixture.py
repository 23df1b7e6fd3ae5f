"""A small hand-made gold layer (with the brand-metrics tables by their contract column names),
two workspaces and tokens, for the API tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from fastapi.testclient import TestClient

from analisa.core.settings import Settings
from serving_api.app import create_app
from serving_api.auth import TokenService
from serving_api.workspaces import add_influencer, create_workspace

TTL = 120

GOLD_DDL = """
create table gold.dim_influencers (
    platform text, account_id text, username text, followers bigint, followers_captured_at
    timestamptz, following bigint, posts_count bigint, median_engagement_rate numeric,
    mean_engagement_rate numeric, posts_in_engagement_window bigint, posts_collected bigint,
    posts_deleted bigint, followers_growth_7d bigint, followers_growth_7d_pct numeric,
    followers_growth_30d bigint, followers_growth_30d_pct numeric, followers_growth_90d bigint,
    followers_growth_90d_pct numeric, sponsored_share numeric, sponsored_engagement_ratio
    numeric, captured_at timestamptz
);
create table gold.fct_post_engagement (
    platform text, account_id text, post_id text, posted_at timestamptz, media_type text,
    caption text, permalink text, likes bigint, comments bigint, shares bigint, views bigint,
    reach bigint, followers_at_capture bigint, engagement_rate_followers numeric,
    engagement_rate_reach numeric, engagement_rate_views numeric, likes_hidden bool,
    is_sponsored bool, sponsored_marker text, is_deleted bool, captured_at timestamptz
);
create table gold.audience_segments (
    platform text, account_id text, dimension text, segment text, share numeric,
    followers_in_segment bigint, captured_at timestamptz
);
create table gold.fct_influencer_daily (
    platform text, account_id text, day date, followers bigint, following bigint,
    posts_published bigint, followers_growth_7d bigint, followers_growth_7d_pct numeric,
    followers_growth_30d bigint, followers_growth_30d_pct numeric, followers_growth_90d bigint,
    followers_growth_90d_pct numeric, median_engagement_rate_30d numeric
);
create table gold.influencer_interests (
    platform text, account_id text, interest text, posts_with_interest bigint, share numeric
);
create table gold.influencer_quality (
    platform text, account_id text, tier text, follower_spike numeric,
    follower_spike_threshold numeric, follower_spike_flag bool, follower_spike_null_reason text,
    viral_share numeric, viral_share_threshold numeric, viral_share_flag bool,
    quality_score numeric, insufficient_data bool, insufficient_data_reason text
);
create table gold.brand_influencer_fit (
    workspace_id bigint, brand_name text, platform text, account_id text, fit_score numeric,
    audience_age_share numeric, interest_overlap numeric, fit_confidence numeric
);
"""

# (platform, account_id, username, followers, median rate, growth 30d %, sponsored share)
# ig1 and tt1 tie on engagement (platform breaks the tie); ig3 has no rate and sorts last.
INFLUENCERS = [
    ("instagram", "ig1", "alice", 10000, 5.0, 8.0, 0.25),
    ("instagram", "ig2", "bob", 50000, 2.0, -1.5, 0.0),
    ("instagram", "ig3", "carol", 3000, None, None, None),
    ("tiktok", "tt1", "dan", 200000, 5.0, 30.0, 0.5),
    ("tiktok", "tt2", "eve", 800, 9.5, 2.0, 0.0),
    # in gold, on no list of acme: only the rival workspace sees it
    ("tiktok", "tt9", "zed", 999999, 50.0, 99.0, 0.0),
]
ACME = ["ig1", "ig2", "ig3", "tt1", "tt2"]
RIVAL = ["ig2", "tt9"]

GOLD_ROWS = """
insert into gold.fct_post_engagement
    (platform, account_id, post_id, posted_at, media_type, caption, permalink, likes, comments,
     shares, reach, followers_at_capture, engagement_rate_followers, likes_hidden,
     is_sponsored, sponsored_marker, is_deleted, captured_at)
select 'instagram', 'ig1', format('p%s', lpad(i::text, 2, '0')),
       timestamptz '2025-01-01 12:00+00' + i * interval '1 day', 'IMAGE',
       case when i % 4 = 0 then 'treino de hoje #publi' else 'treino de hoje' end,
       format('https://www.instagram.com/p/p%s/', i),
       100 + i, 10, 0, 2000, 10000, i / 10.0, false,
       i % 4 = 0, case when i % 4 = 0 then '#publi' end, false,
       timestamptz '2025-02-10 00:00+00'
from generate_series(1, 12) as i;
insert into gold.fct_post_engagement (platform, account_id, post_id, posted_at, is_deleted,
    engagement_rate_followers)
values ('instagram', 'ig1', 'd1', '2025-03-01 00:00+00', true, 99.0);
insert into gold.audience_segments values
    ('instagram', 'ig1', 'age', '18-24', 0.4, 4000, '2025-02-01 00:00+00'),
    ('instagram', 'ig1', 'age', '25-34', 0.6, 6000, '2025-02-01 00:00+00'),
    ('instagram', 'ig1', 'gender', 'F', 0.7, 7000, '2025-02-01 00:00+00'),
    ('instagram', 'ig1', 'gender', 'M', 0.3, 3000, '2025-02-01 00:00+00'),
    ('instagram', 'ig1', 'country', 'BR', 0.8, 8000, '2025-02-01 00:00+00'),
    ('instagram', 'ig1', 'country', 'PT', 0.2, 2000, '2025-02-01 00:00+00'),
    ('instagram', 'ig2', 'country', 'BR', 0.3, 15000, '2025-02-01 00:00+00'),
    ('tiktok', 'tt1', 'country', 'US', 1.0, 200000, '2025-02-01 00:00+00');
insert into gold.fct_influencer_daily values
    ('instagram', 'ig1', '2025-02-08', 9800, 100, 1, null, null, null, null, null, null, 4.5),
    ('instagram', 'ig1', '2025-02-09', 9900, 100, 0, 100, 1.0204, null, null, null, null, 4.6),
    ('instagram', 'ig1', '2025-02-10', 10000, 101, 2, 200, 2.0408, 740, 8.0, null, null, 5.0);
insert into gold.influencer_interests values
    ('instagram', 'ig1', 'fitness', 9, 0.75),
    ('instagram', 'ig1', 'food', 3, 0.25),
    ('tiktok', 'tt1', 'gaming', 4, 1.0),
    ('instagram', 'ig2', 'fitness', 1, 0.1);
insert into gold.influencer_quality values
    ('instagram', 'ig1', 'micro', 0.4, 3.5, false, null, 0.1, 0.3, false, 92.5, false, null),
    ('tiktok', 'tt1', 'mid', 6.0, 3.5, true, null, 0.5, 0.3, true, 40.0, false, null),
    ('instagram', 'ig3', 'nano', null, 3.5, null, 'no history', null, 0.3, null, null, true,
     'two captures (seven needed)');
-- workspace_id is set by build_workspaces, once the brands' workspaces exist
insert into gold.brand_influencer_fit values
    (null, 'Acme Fit', 'instagram', 'ig1', 88.0, 0.6, 1.0, 1.0),
    (null, 'Acme Fit', 'instagram', 'ig2', 40.0, 0.1, 0.2, 1.0),
    (null, 'Acme Fit', 'tiktok', 'tt1', null, null, null, 0.0),
    (null, 'Acme Fit', 'tiktok', 'tt9', 99.0, 1.0, 1.0, 1.0),
    (null, 'Rival Co', 'instagram', 'ig2', 70.0, 0.5, 0.9, 1.0);
"""


def build_gold(db_url: str) -> None:
    with psycopg.connect(db_url) as conn:
        conn.execute(GOLD_DDL)
        with conn.cursor() as cur:
            cur.executemany(
                "insert into gold.dim_influencers (platform, account_id, username, followers,"
                " median_engagement_rate, followers_growth_30d_pct, sponsored_share, captured_at)"
                " values (%s, %s, %s, %s, %s, %s, %s, '2025-02-10 00:00+00')",
                INFLUENCERS,
            )
        conn.execute(GOLD_ROWS)


def build_workspaces(db_url: str) -> dict[str, int]:
    """acme (lists ACME, owns Acme Fit) and rival (lists RIVAL, owns Rival Co); the brands'
    fit rows (built before the workspaces existed) get their workspace."""
    ids = {}
    with psycopg.connect(db_url) as conn:
        gold_built = conn.execute("select to_regclass('gold.brand_influencer_fit')").fetchone()[0]
        for name, accounts, brand in (("acme", ACME, "Acme Fit"), ("rival", RIVAL, "Rival Co")):
            workspace = create_workspace(conn, name)
            ids[name] = workspace.workspace_id
            for account in accounts:
                platform = "instagram" if account.startswith("ig") else "tiktok"
                add_influencer(conn, workspace.workspace_id, platform, account)
            conn.execute(
                "insert into ops.brands (workspace_id, brand_name) values (%s, %s)",
                (workspace.workspace_id, brand),
            )
            if gold_built:
                conn.execute(
                    "update gold.brand_influencer_fit set workspace_id = %s where brand_name = %s",
                    (workspace.workspace_id, brand),
                )
    return ids


def settings_for(db_url: str, redis_url: str | None = None, **values) -> Settings:
    return Settings(DATABASE_URL=db_url, REDIS_URL=redis_url, ANALISA_API_CACHE_TTL=TTL, **values)


@contextmanager
def api(
    db_url: str, redis_url: str | None = None, prefix: str = "analisa:", **values
) -> Iterator[TestClient]:
    config = settings_for(db_url, redis_url, **values)
    with TestClient(create_app(config, redis_prefix=prefix, db_timeout_seconds=1.0)) as client:
        yield client


def bearer(client: TestClient, workspace_id: int, role: str, workspace: str = "acme") -> dict:
    tokens: TokenService = client.app.state.tokens
    token, _ = tokens.issue(
        subject=f"test:{workspace}:{role}",
        workspace_id=workspace_id,
        workspace=workspace,
        role=role,
        ttl_seconds=600,
    )
    return {"Authorization": f"Bearer {token}"}
