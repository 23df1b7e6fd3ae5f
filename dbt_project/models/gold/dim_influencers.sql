-- One row per (platform, account) with at least one account snapshot. Formulas in dim_influencers.yml.

with

account_snapshots as (

    select * from {{ ref('int_account_snapshots') }}

),

posts as (

    select * from {{ ref('fct_post_engagement') }}

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
where latest_snapshot.recency_rank = 1
