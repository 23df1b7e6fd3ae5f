-- The Instagram rows of int_post_snapshots (the view, which holds both platforms' tables, built
-- side by side): one row per (post, capture), what a listing said about a post, with the
-- insights in force for that capture. Likes null = hidden.
--
-- Which Instagram insights capture goes with a listing capture, in order of preference:
--   1. the same round's, the latest at or before the listing capture;
--   2. the same round's, the nearest after it (the collector lists first, then asks insights);
--   3. another round's, the latest at or before the listing capture (point in time).
-- Another round's later insights are never used: they describe a later state of the post.
--
-- One row per capture by construction, so no sort of every capture drops duplicates: staging
-- keeps one answer per (post, capture), and one insights capture at most is chosen for each (the
-- first of its round, or else the one in force, whose intervals do not overlap). The database
-- holds it: the key (platform, post_id, captured_at) has a unique index (post-hook
-- unique_key_index), which also serves the lookups by post.
--
-- Post-incremental (macros/incremental.sql): a build rebuilds every capture of the posts its
-- staging models changed since it last read them (new listing or insights captures), and keeps
-- the other rows; it logs the posts it rebuilt for the models built from it.

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ follow_bronze(['stg_instagram__media', 'stg_instagram__media_insights']) }}",
    post_hook="{{ log_post_changes() }}",
) }}

{%- set producers = ['stg_instagram__media', 'stg_instagram__media_insights'] %}

with

instagram_listings as (

    select * from {{ ref('stg_instagram__media') }}
    {{ only_changed_posts("'instagram'", 'post_id', producers) }}

),

-- what choosing the insights reads of a listing capture: its keys. Read apart from the whole
-- rows, which are read once, at the end, the listings are not kept whole for three readers
-- (1,500,000 captures with their captions, sorted on disk to be joined)
listing_keys as (

    select post_id, round_id, captured_at from {{ ref('stg_instagram__media') }}
    {{ only_changed_posts("'instagram'", 'post_id', producers) }}

),

instagram_insights as (

    select * from {{ ref('stg_instagram__media_insights') }}
    {{ only_changed_posts("'instagram'", 'post_id', producers) }}

),

-- 1 and 2: the same round's insights, few per listing capture (one per round as collected)
same_round_insights as (

    select
        listings.post_id,
        listings.captured_at,
        insights.reach,
        insights.saved,
        insights.total_interactions,
        insights.shares,
        insights.views,
        insights.captured_at as insights_captured_at,
        row_number() over (
            partition by listings.post_id, listings.captured_at
            order by
                case when insights.captured_at <= listings.captured_at then 1 else 2 end,
                -- latest first at or before the listing, nearest first after it
                case when insights.captured_at <= listings.captured_at then insights.captured_at end desc,
                insights.captured_at,
                insights.record_id desc
        ) as candidate_rank
    from listing_keys as listings
    inner join instagram_insights as insights
        on insights.post_id = listings.post_id
        and insights.round_id = listings.round_id

),

-- 3: each insights capture is in force from its capture until the post's next one, so the
-- latest at or before a listing capture is the one whose interval holds it (no pairing of every
-- listing capture with every earlier insights capture of the post, which grows with the square
-- of the post's history)
insights_in_force as (

    select
        *,
        lead(captured_at) over (partition by post_id order by captured_at) as superseded_at
    from instagram_insights

),

chosen_insights as (

    select post_id, captured_at, reach, saved, total_interactions, shares, views,
        insights_captured_at
    from same_round_insights
    where candidate_rank = 1

    union all

    select
        listings.post_id,
        listings.captured_at,
        insights.reach,
        insights.saved,
        insights.total_interactions,
        insights.shares,
        insights.views,
        insights.captured_at as insights_captured_at
    from listing_keys as listings
    inner join insights_in_force as insights
        on insights.post_id = listings.post_id
        and insights.captured_at <= listings.captured_at
        and (
            insights.superseded_at > listings.captured_at
            or insights.superseded_at is null
        )
    where not exists (
        select 1
        from same_round_insights as same_round
        where same_round.post_id = listings.post_id
            and same_round.captured_at = listings.captured_at
    )

),

instagram as (

    select
        'instagram' as platform,
        listings.account_id,
        listings.post_id,
        listings.posted_at,
        listings.media_type,
        listings.caption,
        listings.hashtags,
        listings.like_count as likes,
        listings.comments_count as comments,
        insights.shares,
        insights.views,
        insights.reach,
        insights.saved,
        insights.total_interactions,
        insights.insights_captured_at,
        listings.listing_source,
        listings.round_id,
        listings.record_id,
        listings.captured_at
    from instagram_listings as listings
    left join chosen_insights as insights
        on insights.post_id = listings.post_id
        and insights.captured_at = listings.captured_at

)

select
    platform,
    account_id,
    post_id,
    posted_at,
    media_type,
    caption,
    hashtags,
    likes,
    (likes is null) as likes_hidden,
    comments,
    shares,
    views,
    reach,
    saved,
    total_interactions,
    insights_captured_at,
    listing_source,
    round_id,
    record_id,
    captured_at
from instagram
