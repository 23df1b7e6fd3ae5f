-- One row per influencer: quality signals, each with its value, its threshold and a flag, and a
-- 0–100 score combining them with visible weights; insufficient_data instead of a score when
-- the history is too short to judge. Signals of anomalies in what the official APIs show, not a
-- count of fake followers. Formulas in influencer_quality.yml.
--
-- Built whole (a size tier's band compares accounts with each other) from one row per account:
-- each account's own measures are influencer_quality_measures', rebuilt for changed accounts only.

{% set spike_z_threshold = 3.5 %}
{% set spike_min_gain_pct = 5 %}
{% set min_follower_changes = 4 %}
{% set min_rated_posts = 5 %}
{% set tier_min_accounts = 5 %}
{% set tier_ratio_threshold = 3 %}
{% set views_per_follower_min = 0.05 %}
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

-- each account's own measures (influencer_quality_measures, account-incremental)
measured as (

    select
        influencers.*,
        coalesce(measures.follower_changes, 0) as follower_changes,
        measures.robust_z,
        measures.largest_gain_day,
        measures.largest_gain_pct,
        coalesce(measures.rated_posts, 0) as rated_posts,
        measures.comment_like_ratio,
        measures.median_views,
        measures.viral_share
    from influencers
    left join {{ ref('influencer_quality_measures') }} as measures
        on measures.platform = influencers.platform
        and measures.account_id = influencers.account_id

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
