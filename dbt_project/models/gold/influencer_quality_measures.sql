-- One row per influencer of dim_influencers: what influencer_quality judges, measured from the
-- account's own history (its follower changes, its last 30 live posts). influencer_quality adds
-- the size tiers' bands, the thresholds, flags and the score. Formulas in
-- influencer_quality_measures.yml.
--
-- Account-incremental (macros/incremental.sql, "Account-incremental gold"): a build measures
-- again the accounts whose data changed and keeps every other row; only the comparison with the
-- tiers, across accounts, is computed whole (influencer_quality reads one row per account here
-- instead of every post).

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    indexes=[{'columns': ['platform', 'account_id']}],
    pre_hook="{{ follow_accounts() }}",
) }}

{% set viral_multiple = 3 %}

with

accounts as (

    select platform, account_id
    from {{ ref('dim_influencers') }}
    where true
    {{ only_changed_accounts('platform', 'account_id') }}

),

-- follower_spike: daily gains between consecutive days with a follower count
daily as (

    select
        platform,
        account_id,
        day,
        followers,
        lag(followers) over (partition by platform, account_id order by day) as previous_followers,
        lag(day) over (partition by platform, account_id order by day) as previous_day
    from {{ ref('fct_influencer_daily') }}
    where followers is not null
    {{ only_changed_accounts('platform', 'account_id') }}

),

gains as (

    select
        platform,
        account_id,
        day,
        previous_followers,
        cast(followers - previous_followers as {{ type_exact_numeric() }})
            / {{ dbt.datediff('previous_day', 'day', 'day') }} as daily_gain
    from daily
    where previous_day is not null

),

gain_medians as (

    select
        platform,
        account_id,
        count(*) as follower_changes,
        {{ median('daily_gain') }} as median_gain,
        max(daily_gain) as max_gain
    from gains
    group by platform, account_id

),

-- carries the medians' columns, so spikes joins one aggregate of the gains, not two
gain_spread as (

    select
        gains.platform,
        gains.account_id,
        gain_medians.follower_changes,
        gain_medians.median_gain,
        gain_medians.max_gain,
        {{ median('abs(gains.daily_gain - gain_medians.median_gain)') }} as mad,
        avg(abs(gains.daily_gain - gain_medians.median_gain)) as mean_abs_deviation
    from gains
    inner join gain_medians
        on gain_medians.platform = gains.platform
        and gain_medians.account_id = gains.account_id
    group by
        gains.platform,
        gains.account_id,
        gain_medians.follower_changes,
        gain_medians.median_gain,
        gain_medians.max_gain

),

largest_gain as (

    select
        gains.platform,
        gains.account_id,
        gains.day,
        case
            when gains.previous_followers > 0
                then round(gains.daily_gain * 100 / gains.previous_followers, 4)
        end as gain_pct,
        row_number() over (
            partition by gains.platform, gains.account_id
            order by gains.daily_gain desc, gains.day
        ) as gain_rank
    from gains

),

spikes as (

    select
        gain_spread.platform,
        gain_spread.account_id,
        gain_spread.follower_changes,
        gain_spread.max_gain,
        largest_gain.day as largest_gain_day,
        largest_gain.gain_pct as largest_gain_pct,
        -- robust z: MAD × 1.4826 estimates the standard deviation; when more than half the gains
        -- are equal (MAD 0), the mean absolute deviation × 1.2533 does; all equal: z = 0
        case
            when gain_spread.mad > 0
                then round((gain_spread.max_gain - gain_spread.median_gain) / (1.4826 * gain_spread.mad), 4)
            when gain_spread.mean_abs_deviation > 0
                then round(
                    (gain_spread.max_gain - gain_spread.median_gain)
                    / (1.2533 * gain_spread.mean_abs_deviation),
                    4
                )
            else 0
        end as robust_z
    from gain_spread
    inner join largest_gain
        on largest_gain.platform = gain_spread.platform
        and largest_gain.account_id = gain_spread.account_id
        and largest_gain.gain_rank = 1

),

-- the engagement window of dim_influencers: the last 30 live posts by posted_at
-- (only the columns read below: the window sorts every live post)
recent_posts as (

    select
        platform,
        account_id,
        engagement_rate_followers,
        likes,
        comments,
        views,
        row_number() over (
            partition by platform, account_id
            order by posted_at desc nulls last, post_id desc
        ) as recency_rank
    from {{ ref('fct_post_engagement') }}
    where not is_deleted
    {{ only_changed_accounts('platform', 'account_id') }}

),

window_posts as (

    select * from recent_posts where recency_rank <= 30

),

post_stats as (

    select
        platform,
        account_id,
        sum(case when engagement_rate_followers is not null then 1 else 0 end) as rated_posts,
        {{ median('engagement_rate_followers') }} as median_rate,
        case
            when sum(case when likes is not null then likes end) > 0 then round(
                cast(sum(case when likes is not null then comments end) as {{ type_exact_numeric() }})
                / sum(case when likes is not null then likes end),
                4
            )
        end as comment_like_ratio,
        {{ median('views') }} as median_views
    from window_posts
    group by platform, account_id

),

viral as (

    select
        window_posts.platform,
        window_posts.account_id,
        round(
            cast(sum(
                case
                    when window_posts.engagement_rate_followers
                        > {{ viral_multiple }} * post_stats.median_rate then 1
                    else 0
                end
            ) as {{ type_exact_numeric() }}) / count(*),
            4
        ) as viral_share
    from window_posts
    inner join post_stats
        on post_stats.platform = window_posts.platform
        and post_stats.account_id = window_posts.account_id
    where window_posts.engagement_rate_followers is not null
    group by window_posts.platform, window_posts.account_id

)

select
    accounts.platform,
    accounts.account_id,
    coalesce(spikes.follower_changes, 0) as follower_changes,
    spikes.robust_z,
    spikes.largest_gain_day,
    spikes.largest_gain_pct,
    coalesce(post_stats.rated_posts, 0) as rated_posts,
    post_stats.comment_like_ratio,
    post_stats.median_views,
    viral.viral_share
from accounts
left join spikes
    on spikes.platform = accounts.platform
    and spikes.account_id = accounts.account_id
left join post_stats
    on post_stats.platform = accounts.platform
    and post_stats.account_id = accounts.account_id
left join viral
    on viral.platform = accounts.platform
    and viral.account_id = accounts.account_id
