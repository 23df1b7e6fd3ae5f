-- One row per influencer: quality signals, each with its value, its threshold and a flag, and a
-- 0–100 score combining them with visible weights; insufficient_data instead of a score when
-- the history is too short to judge. Signals of anomalies in what the official APIs show, not a
-- count of fake followers. Formulas in influencer_quality.yml.

{% set spike_z_threshold = 3.5 %}
{% set spike_min_gain_pct = 5 %}
{% set min_follower_changes = 4 %}
{% set min_rated_posts = 5 %}
{% set tier_min_accounts = 5 %}
{% set tier_ratio_threshold = 3 %}
{% set views_per_follower_min = 0.05 %}
{% set viral_multiple = 3 %}
{% set viral_share_max = 0.25 %}
{% set weights = {
    'follower_spike': 30,
    'engagement_vs_tier': 30,
    'comment_like_ratio': 20,
    'views_per_follower': 10,
    'viral_share': 10,
} %}

with

influencers as (

    select
        platform,
        account_id,
        username,
        followers,
        median_engagement_rate,
        case
            when followers is null then null
            when followers < 10000 then 'nano'
            when followers < 100000 then 'micro'
            when followers < 500000 then 'mid'
            when followers <= 1000000 then 'macro'
            else 'mega'
        end as tier
    from {{ ref('dim_influencers') }}

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

),

measured as (

    select
        influencers.*,
        coalesce(spikes.follower_changes, 0) as follower_changes,
        spikes.robust_z,
        spikes.largest_gain_day,
        spikes.largest_gain_pct,
        coalesce(post_stats.rated_posts, 0) as rated_posts,
        post_stats.comment_like_ratio,
        post_stats.median_views,
        viral.viral_share
    from influencers
    left join spikes
        on spikes.platform = influencers.platform
        and spikes.account_id = influencers.account_id
    left join post_stats
        on post_stats.platform = influencers.platform
        and post_stats.account_id = influencers.account_id
    left join viral
        on viral.platform = influencers.platform
        and viral.account_id = influencers.account_id

),

-- each size tier's band, from the platform's own accounts in gold
tiers as (

    select
        platform,
        tier,
        count(median_engagement_rate) as tier_accounts,
        {{ median('median_engagement_rate') }} as tier_median_engagement_rate,
        {{ median('comment_like_ratio') }} as tier_median_comment_like_ratio
    from measured
    where tier is not null
    group by platform, tier

),

signals as (

    select
        measured.platform,
        measured.account_id,
        measured.username,
        measured.followers,
        measured.tier,
        tiers.tier_accounts,
        measured.follower_changes,
        measured.rated_posts,

        measured.robust_z as follower_spike,
        {{ spike_z_threshold }} as follower_spike_threshold,
        measured.largest_gain_day as follower_spike_day,
        measured.largest_gain_pct as follower_spike_gain_pct,
        case
            when measured.follower_changes >= {{ min_follower_changes }}
                then measured.robust_z > {{ spike_z_threshold }}
                    and coalesce(measured.largest_gain_pct, 0) > {{ spike_min_gain_pct }}
        end as follower_spike_flag,

        measured.median_engagement_rate,
        round(tiers.tier_median_engagement_rate, 4) as tier_median_engagement_rate,
        case
            when tiers.tier_accounts >= {{ tier_min_accounts }}
                and tiers.tier_median_engagement_rate > 0
                then round(measured.median_engagement_rate / tiers.tier_median_engagement_rate, 4)
        end as engagement_vs_tier,
        {{ tier_ratio_threshold }} as engagement_vs_tier_threshold,

        measured.comment_like_ratio,
        round(tiers.tier_median_comment_like_ratio, 4) as tier_median_comment_like_ratio,
        case
            when tiers.tier_accounts >= {{ tier_min_accounts }}
                and tiers.tier_median_comment_like_ratio > 0
                then round(measured.comment_like_ratio / tiers.tier_median_comment_like_ratio, 4)
        end as comment_like_ratio_vs_tier,
        {{ tier_ratio_threshold }} as comment_like_ratio_threshold,

        case
            when measured.platform = 'tiktok' and measured.followers > 0
                then round(measured.median_views / measured.followers, 4)
        end as views_per_follower,
        {{ views_per_follower_min }} as views_per_follower_threshold,

        case
            when measured.rated_posts >= {{ min_rated_posts }} then measured.viral_share
        end as viral_share,
        {{ viral_share_max }} as viral_share_threshold
    from measured
    left join tiers
        on tiers.platform = measured.platform
        and tiers.tier = measured.tier

),

flagged as (

    select
        signals.*,
        case
            when engagement_vs_tier is not null
                then engagement_vs_tier > {{ tier_ratio_threshold }}
                    or engagement_vs_tier < 1.0 / {{ tier_ratio_threshold }}
        end as engagement_vs_tier_flag,
        case
            when comment_like_ratio_vs_tier is not null
                then comment_like_ratio_vs_tier > {{ tier_ratio_threshold }}
                    or comment_like_ratio_vs_tier < 1.0 / {{ tier_ratio_threshold }}
        end as comment_like_ratio_flag,
        case
            when views_per_follower is not null
                then views_per_follower < {{ views_per_follower_min }}
        end as views_per_follower_flag,
        case
            when viral_share is not null then viral_share > {{ viral_share_max }}
        end as viral_share_flag,
        (follower_changes < {{ min_follower_changes }} or rated_posts < {{ min_rated_posts }})
            as insufficient_data
    from signals

)

select
    *,
    case
        when not insufficient_data then round(
            100 * (1 - cast(
                {% for signal, weight in weights.items() %}
                case when {{ signal }}_flag then {{ weight }} else 0 end{{ " +" if not loop.last }}
                {% endfor %}
            as {{ type_exact_numeric() }}) / (
                {% for signal, weight in weights.items() %}
                case when {{ signal }}_flag is not null then {{ weight }} else 0 end{{ " +" if not loop.last }}
                {% endfor %}
            )),
            1
        )
    end as quality_score,
    '{% for signal, weight in weights.items() %}{{ signal }} {{ weight }}{{ ", " if not loop.last }}{% endfor %}'
        as quality_weights,
    case
        when insufficient_data then rtrim(
            case
                when follower_changes < {{ min_follower_changes }}
                    then 'follower history: ' || cast(follower_changes as {{ dbt.type_string() }})
                        || ' daily changes ({{ min_follower_changes }} needed); '
                else ''
            end
            || case
                when rated_posts < {{ min_rated_posts }}
                    then 'posts: ' || cast(rated_posts as {{ dbt.type_string() }})
                        || ' rated live posts ({{ min_rated_posts }} needed); '
                else ''
            end,
            '; '
        )
    end as insufficient_data_reason,
    case
        when follower_spike_flag is null
            then cast(follower_changes as {{ dbt.type_string() }})
                || ' daily follower changes ({{ min_follower_changes }} needed)'
    end as follower_spike_null_reason,
    case
        when engagement_vs_tier_flag is not null then null
        when median_engagement_rate is null then 'no engagement rate'
        when tier is null then 'followers unknown: no tier'
        when tier_accounts < {{ tier_min_accounts }}
            then 'the ' || platform || ' ' || tier || ' tier has '
                || cast(tier_accounts as {{ dbt.type_string() }})
                || ' accounts with a rate ({{ tier_min_accounts }} needed)'
        else 'the tier median rate is 0'
    end as engagement_vs_tier_null_reason,
    case
        when comment_like_ratio_flag is not null then null
        when comment_like_ratio is null then 'no live post with likes shown'
        when tier is null then 'followers unknown: no tier'
        when tier_accounts < {{ tier_min_accounts }}
            then 'the ' || platform || ' ' || tier || ' tier has '
                || cast(tier_accounts as {{ dbt.type_string() }})
                || ' accounts with a rate ({{ tier_min_accounts }} needed)'
        else 'the tier median ratio is 0'
    end as comment_like_ratio_null_reason,
    case
        when views_per_follower_flag is not null then null
        when platform <> 'tiktok' then 'a TikTok signal (views of every video)'
        else 'followers or views unknown'
    end as views_per_follower_null_reason,
    case
        when viral_share_flag is null
            then cast(rated_posts as {{ dbt.type_string() }})
                || ' rated live posts ({{ min_rated_posts }} needed)'
    end as viral_share_null_reason
from flagged
