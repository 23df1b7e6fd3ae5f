-- One row per (platform, post), deleted posts included and flagged. Formulas in fct_post_engagement.yml.

{#- Instagram's insights: with Business Discovery (a public creator) the platform gives none. #}
{%- set instagram_insights = ['shares', 'views', 'reach', 'saved', 'total_interactions'] %}

{#- Account-incremental (macros/incremental.sql, "Account-incremental gold"): a build measures the
    posts of the accounts whose posts, followers or scores changed, and keeps every other row. #}
{%- set scores = ['caption_sentiment'] %}

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    indexes=[{'columns': ['platform', 'account_id']}],
    pre_hook="{{ follow_accounts(['caption_sentiment']) }}",
) }}

with

posts as (

    select * from {{ ref('int_posts') }}
    where true
    {{ only_changed_accounts('platform', 'account_id', scores) }}

),

-- how the latest capture was read: Business Discovery (a public creator) or else a creator's
-- own listing; only the Business Discovery captures are needed to tell them apart
discovery_captures as (

    select
        platform,
        post_id,
        captured_at
    from {{ ref('int_post_snapshots') }}
    where listing_source = 'business_discovery'
    {%- if accounts_increment(scores) %}
        and (platform, post_id) in (select platform, post_id from posts)
    {%- endif %}

),

-- each account snapshot with followers, in force from its capture until the next one: a post
-- joins the one snapshot whose interval holds its latest capture, with no ranking of every
-- snapshot before it
account_snapshots as (

    select
        platform,
        account_id,
        followers,
        captured_at,
        lead(captured_at) over (
            partition by platform, account_id order by captured_at
        ) as superseded_at
    from {{ ref('int_account_snapshots') }}
    where followers is not null
    {{ only_changed_accounts('platform', 'account_id', scores) }}

),

measured as (

    select
        posts.*,
        account_snapshots.followers as followers_at_capture,
        account_snapshots.captured_at as account_captured_at,
        case
            when discovery_captures.post_id is not null then 'public'
            else 'connected'
        end as access,
        -- what is known: hidden likes and missing insights count as nothing, and are flagged
        cast(
            coalesce(posts.likes, 0) + coalesce(posts.comments, 0) + coalesce(posts.shares, 0)
            as {{ type_exact_numeric() }}
        ) as interactions,
        -- disclosure markers (post_sponsored_markers): a post without a caption discloses nothing
        coalesce(sponsorship.is_sponsored, false) as is_sponsored,
        sponsorship.sponsored_marker,
        -- the enrichment's serving version, for the caption as it is now (null: not scored)
        sentiment.sentiment as caption_sentiment,
        cast(sentiment.score as {{ type_exact_numeric() }}) as caption_sentiment_score
    from posts
    -- point in time: the account snapshot in force at the post's latest capture (the latest at or
    -- before it), joined on the account (an equality the planner counts right) and then on the
    -- interval; a separate step joined back on the post was planned as a loop over every pair
    left join account_snapshots
        on account_snapshots.platform = posts.platform
        and account_snapshots.account_id = posts.account_id
        and account_snapshots.captured_at <= posts.captured_at
        and (
            account_snapshots.superseded_at > posts.captured_at
            or account_snapshots.superseded_at is null
        )
    left join discovery_captures
        on discovery_captures.platform = posts.platform
        and discovery_captures.post_id = posts.post_id
        and discovery_captures.captured_at = posts.captured_at
    left join {{ ref('post_sponsored_markers') }} as sponsorship
        on sponsorship.platform = posts.platform
        and sponsorship.post_id = posts.post_id
    left join (
        select scored.*
        from {{ source('silver', 'caption_sentiment') }} as scored
        inner join ({{ enrichment_serving_version() }}) as serving_version
            on serving_version.model = scored.model
            and serving_version.model_version = scored.model_version
        where true
        {{ only_changed_accounts('scored.platform', 'scored.account_id', scores) }}
    ) as sentiment
        on sentiment.platform = posts.platform
        and sentiment.post_id = posts.post_id
        and sentiment.caption_hash = {{ dbt.hash('posts.caption') }}

),

-- unavailable is not zero: which metrics are null, and why (each item led by its separator)
unavailable as (

    select
        measured.*,
        {{ dbt.concat([
            "case when likes is null then ', likes' else '' end",
            "case when comments is null then ', comments' else '' end",
            "case when shares is null then ', shares' else '' end",
            "case when views is null then ', views' else '' end",
            "case when platform = 'instagram' and reach is null then ', reach' else '' end",
            "case when platform = 'instagram' and saved is null then ', saved' else '' end",
            "case when platform = 'instagram' and total_interactions is null then ', total_interactions' else '' end",
        ]) }} as unavailable_list,
        {{ dbt.concat([
            "case when likes is null then '; likes hidden by the owner' else '' end",
            "case when platform = 'instagram' and access = 'public' and (" ~ (instagram_insights | join(' is null or ')) ~ " is null) then '; public creator: Business Discovery gives no insights' else '' end",
            "case when platform = 'instagram' and access = 'connected' and (" ~ (instagram_insights | join(' is null or ')) ~ " is null) then '; no insights captured for this post (not asked yet, refused for its media, or not given yet)' else '' end",
            "case when comments is null or (platform <> 'instagram' and (shares is null or views is null)) then '; not in the platform''s answer' else '' end",
        ]) }} as unavailable_reasons
    from measured

)

select
    platform,
    account_id,
    post_id,
    posted_at,
    media_type,
    caption,
    likes,
    comments,
    shares,
    views,
    reach,
    saved,
    total_interactions,
    interactions,
    followers_at_capture,
    account_captured_at,
    case
        when followers_at_capture is null then null
        when followers_at_capture = 0 then cast(0 as {{ type_exact_numeric() }})
        else round(interactions * 100 / followers_at_capture, 4)
    end as engagement_rate_followers,
    case
        when reach > 0 then round(interactions * 100 / reach, 4)
    end as engagement_rate_reach,
    case
        when views > 0 then round(interactions * 100 / views, 4)
    end as engagement_rate_views,
    likes_hidden,
    (shares is null) as shares_unknown,
    access,
    case
        when unavailable_list <> ''
            then {{ dbt.right('unavailable_list', dbt.length('unavailable_list') ~ ' - 2') }}
    end as metrics_unavailable,
    case
        when unavailable_reasons <> ''
            then {{ dbt.right('unavailable_reasons', dbt.length('unavailable_reasons') ~ ' - 2') }}
    end as metrics_unavailable_reason,
    is_sponsored,
    sponsored_marker,
    caption_sentiment,
    caption_sentiment_score,
    is_deleted,
    deleted_at,
    first_seen_at,
    captured_at
from unavailable
