-- One row per (platform, account) with at least one account snapshot. Formulas in dim_influencers.yml.
--
-- Account-incremental (macros/incremental.sql, "Account-incremental gold"): every figure is the
-- account's own, so a build computes again the accounts whose data changed and keeps the others.

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    indexes=[{'columns': ['platform', 'account_id']}],
    pre_hook="{{ follow_accounts() }}",
) }}

with

account_snapshots as (

    select * from {{ ref('int_account_snapshots') }}
    where true
    {{ only_changed_accounts('platform', 'account_id') }}

),

-- only the columns read below: this is held once and read by five aggregates
posts as (

    select
        platform,
        account_id,
        post_id,
        posted_at,
        is_deleted,
        is_sponsored,
        engagement_rate_followers,
        engagement_rate_reach,
        engagement_rate_views
    from {{ ref('fct_post_engagement') }}
    where true
    {{ only_changed_accounts('platform', 'account_id') }}

),

latest_snapshot as (

    select
        *,
        row_number() over (
            partition by platform, account_id
            order by captured_at desc, record_id desc
        ) as recency_rank
    from account_snapshots

),

-- A capture may lack a value and still be valid data about what it holds: a Business Discovery
-- media page has no counts, TikTok's basic scope gives no counts, a field set may be partial.
-- Each value is therefore the last one known, with the time it was captured; an answer without
-- counts never erases them.
{% for column in ['username', 'followers', 'following', 'posts_count'] %}
known_{{ column }} as (

    select
        platform,
        account_id,
        {{ column }},
        captured_at as {{ column }}_captured_at,
        row_number() over (
            partition by platform, account_id order by captured_at desc, record_id desc
        ) as recency_rank
    from account_snapshots
    where {{ column }} is not null

),
{% endfor %}

rated_posts as (

    select
        platform,
        account_id,
        engagement_rate_followers,
        row_number() over (
            partition by platform, account_id
            order by posted_at desc nulls last, post_id desc
        ) as recency_rank
    from posts
    where not is_deleted
        and engagement_rate_followers is not null

),

engagement as (

    select
        platform,
        account_id,
        round({{ median('engagement_rate_followers') }}, 4) as median_engagement_rate,
        round(avg(engagement_rate_followers), 4) as mean_engagement_rate,
        count(*) as posts_in_engagement_window
    from rated_posts
    where recency_rank <= 30
    group by platform, account_id

),

collected as (

    select
        platform,
        account_id,
        count(*) as posts_collected,
        sum(case when is_deleted then 1 else 0 end) as posts_deleted
    from posts
    group by platform, account_id

),

-- engagement by reach (Instagram insights) and by views (TikTok): the same window rule as
-- above, each over the posts whose own rate is known
{% for basis, basis_platform in [('reach', 'instagram'), ('views', 'tiktok')] %}
rated_by_{{ basis }} as (

    select
        platform,
        account_id,
        engagement_rate_{{ basis }} as rate,
        row_number() over (
            partition by platform, account_id
            order by posted_at desc nulls last, post_id desc
        ) as recency_rank
    from posts
    where not is_deleted
        and platform = '{{ basis_platform }}'
        and engagement_rate_{{ basis }} is not null

),

engagement_by_{{ basis }} as (

    select
        platform,
        account_id,
        round({{ median('rate') }}, 4) as median_engagement_rate_{{ basis }}
    from rated_by_{{ basis }}
    where recency_rank <= 30
    group by platform, account_id

),
{% endfor %}

sponsorship as (

    select
        platform,
        account_id,
        sum(case when is_sponsored then 1 else 0 end) as sponsored_posts,
        sum(case when is_sponsored then 0 else 1 end) as organic_posts,
        {{ median('case when is_sponsored then engagement_rate_followers end') }}
            as median_rate_sponsored,
        {{ median('case when not is_sponsored then engagement_rate_followers end') }}
            as median_rate_organic
    from posts
    where not is_deleted
    group by platform, account_id

),

-- the smallest share of followers any of the account's latest breakdowns describes (Instagram
-- returns the top 45 cities or countries only): what every audience share stands on
coverage as (

    select platform, account_id, min(coverage) as audience_coverage
    from {{ ref('audience_segments') }}
    where true
    {{ only_changed_accounts('platform', 'account_id') }}
    group by platform, account_id

),

latest_day as (

    select
        *,
        row_number() over (partition by platform, account_id order by day desc) as recency_rank
    from {{ ref('fct_influencer_daily') }}
    where true
    {{ only_changed_accounts('platform', 'account_id') }}

)

select
    latest_snapshot.platform,
    latest_snapshot.account_id,
    known_username.username,
    known_followers.followers,
    known_followers.followers_captured_at,
    known_following.following,
    known_following.following_captured_at,
    known_posts_count.posts_count,
    known_posts_count.posts_count_captured_at,
    engagement.median_engagement_rate,
    engagement.mean_engagement_rate,
    coalesce(engagement.posts_in_engagement_window, 0) as posts_in_engagement_window,
    coalesce(collected.posts_collected, 0) as posts_collected,
    coalesce(collected.posts_deleted, 0) as posts_deleted,
    engagement_by_reach.median_engagement_rate_reach,
    case
        when latest_snapshot.platform <> 'instagram' then 'reach is an Instagram insight'
        when engagement_by_reach.median_engagement_rate_reach is null
            then 'no live post with reach (a public creator has no insights)'
    end as median_engagement_rate_reach_null_reason,
    engagement_by_views.median_engagement_rate_views,
    case
        when latest_snapshot.platform <> 'tiktok' then 'the rate by views is given for TikTok'
        when engagement_by_views.median_engagement_rate_views is null
            then 'no live video with views'
    end as median_engagement_rate_views_null_reason,
    coalesce(sponsorship.sponsored_posts, 0) as sponsored_posts,
    case
        when sponsorship.sponsored_posts + sponsorship.organic_posts > 0 then round(
            cast(sponsorship.sponsored_posts as {{ type_exact_numeric() }})
            / (sponsorship.sponsored_posts + sponsorship.organic_posts),
            4
        )
    end as sponsored_share,
    case
        when sponsorship.median_rate_organic > 0
            then round(sponsorship.median_rate_sponsored / sponsorship.median_rate_organic, 4)
    end as sponsored_engagement_ratio,
    case
        when sponsorship.account_id is null then 'no live post collected'
        when sponsorship.median_rate_sponsored is null then 'no sponsored post with a rate'
        when sponsorship.median_rate_organic is null then 'no organic post with a rate'
        when sponsorship.median_rate_organic = 0 then 'organic posts have a median rate of 0'
    end as sponsored_engagement_ratio_null_reason,
    {% for n in [7, 30, 90] %}
    latest_day.followers_growth_{{ n }}d,
    latest_day.followers_growth_{{ n }}d_pct,
    latest_day.followers_growth_{{ n }}d_null_reason,
    {% endfor %}
    latest_day.day as growth_as_of,
    coverage.audience_coverage,
    case
        when coverage.audience_coverage is not null then null
        when latest_snapshot.platform = 'tiktok' then 'TikTok gives no audience demographics'
        when coverage.account_id is not null then 'followers unknown at the demographics capture'
        when known_followers.followers < 100
            then 'Instagram gives no demographics below 100 followers'
        else 'no demographics captured (a public creator shows none)'
    end as audience_coverage_null_reason,
    -- A public creator (read through Business Discovery, never connected) has public counts
    -- and media only: say which metrics cannot exist for it instead of showing zeros.
    case
        when latest_snapshot.snapshot_source = 'business_discovery' then 'public'
        else 'connected'
    end as access,
    case
        when latest_snapshot.snapshot_source = 'business_discovery'
            then 'reach, insights (saved, shares, views, total_interactions), demographics'
    end as metrics_unavailable,
    latest_snapshot.captured_at
from latest_snapshot
{% for column in ['username', 'followers', 'following', 'posts_count'] %}
left join known_{{ column }}
    on known_{{ column }}.platform = latest_snapshot.platform
    and known_{{ column }}.account_id = latest_snapshot.account_id
    and known_{{ column }}.recency_rank = 1
{% endfor %}
left join engagement
    on engagement.platform = latest_snapshot.platform
    and engagement.account_id = latest_snapshot.account_id
left join collected
    on collected.platform = latest_snapshot.platform
    and collected.account_id = latest_snapshot.account_id
{% for cte in ['engagement_by_reach', 'engagement_by_views', 'sponsorship', 'coverage'] %}
left join {{ cte }}
    on {{ cte }}.platform = latest_snapshot.platform
    and {{ cte }}.account_id = latest_snapshot.account_id
{% endfor %}
left join latest_day
    on latest_day.platform = latest_snapshot.platform
    and latest_day.account_id = latest_snapshot.account_id
    and latest_day.recency_rank = 1
where latest_snapshot.recency_rank = 1
