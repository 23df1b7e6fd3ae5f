-- One row per (platform, account, UTC day) with an account capture that day: counts, follower
-- growth against earlier captures, posts published and engagement of the last 30 days. Windows
-- are measured from capture times, never the wall clock. Formulas in fct_influencer_daily.yml.

{#- Account-incremental (macros/incremental.sql, "Account-incremental gold"): a build computes
    again the days of the accounts whose captures or posts changed, and keeps every other row. #}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    indexes=[{'columns': ['platform', 'account_id']}],
    pre_hook="{{ follow_accounts() }}",
) }}

{% set windows = [7, 30, 90] %}

with

snapshots as (

    select
        platform,
        account_id,
        followers,
        following,
        record_id,
        captured_at,
        {{ utc_date('captured_at') }} as day
    from {{ ref('int_account_snapshots') }}
    where true
    {{ only_changed_accounts('platform', 'account_id') }}

),

-- the day's capture: its latest one that holds followers (an answer without counts, such as
-- TikTok's basic scope, does not hide the day's count), else its latest one
ranked_in_day as (

    select
        *,
        row_number() over (
            partition by platform, account_id, day
            order by
                case when followers is null then 1 else 0 end,
                captured_at desc,
                record_id desc
        ) as day_rank
    from snapshots

),

days as (

    select platform, account_id, day, followers, following, captured_at
    from ranked_in_day
    where day_rank = 1

),

known_followers as (

    select platform, account_id, followers, captured_at
    from snapshots
    where followers is not null

),

-- for each window N: the last capture with followers at or before the same time N days earlier
-- computed once: joined back to the days (macros/types_and_time.sql)
reference_times as {{ computed_once() }} (

    select
        days.platform,
        days.account_id,
        days.day,
        {% for n in windows %}
        max(
            case
                when known_followers.captured_at <= {{ dbt.dateadd('day', -n, 'days.captured_at') }}
                    then known_followers.captured_at
            end
        ) as reference_{{ n }}d_at{{ "," if not loop.last }}
        {% endfor %}
    from days
    inner join known_followers
        on known_followers.platform = days.platform
        and known_followers.account_id = days.account_id
        and known_followers.captured_at <= {{ dbt.dateadd('day', -windows[0], 'days.captured_at') }}
    group by days.platform, days.account_id, days.day

),

published as (

    select
        platform,
        account_id,
        {{ utc_date('posted_at') }} as day,
        count(*) as posts_published
    from {{ ref('fct_post_engagement') }}
    where posted_at is not null
    {{ only_changed_accounts('platform', 'account_id') }}
    group by platform, account_id, {{ utc_date('posted_at') }}

),

-- only the columns the 30-day median reads: every post is joined to each capture day within
-- 30 days of it, and those rows are sorted
rated_posts as (

    select platform, account_id, posted_at, engagement_rate_followers
    from {{ ref('fct_post_engagement') }}
    where not is_deleted
    {{ only_changed_accounts('platform', 'account_id') }}
        and engagement_rate_followers is not null

),

-- computed once: joined back to the days (macros/types_and_time.sql)
engagement_30d as {{ computed_once() }} (

    select
        days.platform,
        days.account_id,
        days.day,
        round({{ median('rated_posts.engagement_rate_followers') }}, 4) as median_engagement_rate_30d,
        count(*) as rated_posts_30d
    from days
    inner join rated_posts
        on rated_posts.platform = days.platform
        and rated_posts.account_id = days.account_id
        and rated_posts.posted_at <= days.captured_at
        and rated_posts.posted_at > {{ dbt.dateadd('day', -30, 'days.captured_at') }}
    group by days.platform, days.account_id, days.day

)

select
    days.platform,
    days.account_id,
    days.day,
    days.followers,
    days.following,
    coalesce(published.posts_published, 0) as posts_published,
    {% for n in windows %}
    days.followers - reference_{{ n }}d.followers as followers_growth_{{ n }}d,
    case
        when reference_{{ n }}d.followers > 0 then round(
            cast(days.followers - reference_{{ n }}d.followers as {{ type_exact_numeric() }})
            * 100 / reference_{{ n }}d.followers,
            4
        )
    end as followers_growth_{{ n }}d_pct,
    reference_times.reference_{{ n }}d_at as followers_growth_{{ n }}d_reference_at,
    case
        when days.followers is null then 'no follower count captured that day'
        when reference_times.reference_{{ n }}d_at is null
            then 'no capture {{ n }} days or more before (history too short)'
        when reference_{{ n }}d.followers = 0
            then 'no followers {{ n }} days before: no percentage'
    end as followers_growth_{{ n }}d_null_reason,
    {% endfor %}
    engagement_30d.median_engagement_rate_30d,
    coalesce(engagement_30d.rated_posts_30d, 0) as rated_posts_30d,
    case
        when engagement_30d.median_engagement_rate_30d is null
            then 'no rated post published in the 30 days up to the capture'
    end as median_engagement_rate_30d_null_reason,
    days.captured_at
from days
left join reference_times
    on reference_times.platform = days.platform
    and reference_times.account_id = days.account_id
    and reference_times.day = days.day
{% for n in windows %}
left join known_followers as reference_{{ n }}d
    on reference_{{ n }}d.platform = days.platform
    and reference_{{ n }}d.account_id = days.account_id
    and reference_{{ n }}d.captured_at = reference_times.reference_{{ n }}d_at
{% endfor %}
left join published
    on published.platform = days.platform
    and published.account_id = days.account_id
    and published.day = days.day
left join engagement_30d
    on engagement_30d.platform = days.platform
    and engagement_30d.account_id = days.account_id
    and engagement_30d.day = days.day
