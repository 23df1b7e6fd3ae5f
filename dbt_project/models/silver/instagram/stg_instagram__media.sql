-- One row per (media id, capture): the posts of Instagram media list pages, plus the media that
-- Business Discovery answers carry for creators who have not connected.
-- Incremental on bronze's ingested_at (macros/incremental.sql).
-- Each build logs the posts it changed, for int_post_snapshots__instagram (log_post_changes).

{{
    config(
        materialized='incremental',
        unique_key=['post_id', 'captured_at'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook="{{ no_memoize() }}",
        post_hook="{{ log_post_changes('instagram') }}"
    )
}}

with

pages as (

    select * from {{ source('bronze', 'instagram_media') }}
    where http_status = 200
        and body is not null
        {{ bronze_increment() }}

),

discoveries as (

    select * from {{ source('bronze', 'instagram_user') }}
    where http_status = 200
        and body is not null
        and {{ json_type('body', 'business_discovery') }} = 'object'
        {{ bronze_increment() }}

),

listed as (

    select
        pages.record_id,
        pages.account_id,
        pages.round_id,
        pages.fetched_at,
        pages.ingested_at,
        'media' as listing_source,
        item.position as page_position,
        item.value as item
    from pages
    {{ json_array_rows('pages.body', 'item', 'data') }}

    union all

    select
        discoveries.record_id,
        discoveries.account_id,
        discoveries.round_id,
        discoveries.fetched_at,
        discoveries.ingested_at,
        'business_discovery' as listing_source,
        item.position as page_position,
        item.value as item
    from discoveries
    {{ json_array_rows('discoveries.body', 'item', 'business_discovery', 'media', 'data') }}

),

deduplicated as (

    -- the kept answer of each (post, capture) is chosen on the keys alone, before the text work
    -- below, which is then done once per kept row; the values are read out of the answer here,
    -- so the rows joined to their texts below carry the values, not the whole answer
    select *
    from (
        select
            {{ json_text('item', 'id') }} as post_id,
            account_id,
            round_id,
            record_id,
            listing_source,
            page_position,
            {{ json_text('item', 'media_type') }} as media_type,
            {{ json_text('item', 'media_product_type') }} as media_product_type,
            {{ parse_iso_timestamp(json_text('item', 'timestamp')) }} as posted_at,
            -- absent when the owner hides likes: stays null, never 0
            {{ json_bigint('item', 'like_count') }} as like_count,
            {{ json_bigint('item', 'comments_count') }} as comments_count,
            {{ json_text('item', 'permalink') }} as permalink,
            {{ json_text('item', 'caption') }} as caption_text,
            fetched_at as captured_at,
            ingested_at,
            row_number() over (
                partition by {{ json_text('item', 'id') }}, fetched_at
                order by case when listing_source = 'media' then 0 else 1 end, record_id desc
            ) as duplicate_rank
        from listed
        where {{ json_text('item', 'id') }} is not null
    ) as ranked
    where duplicate_rank = 1

),

captions as (

    -- a post keeps its caption from capture to capture: each different caption is pseudonymised
    -- and searched for hashtags once, not once per capture
    select
        caption_text,
        -- other people's @handles become pseudonyms (macros/pseudonyms.sql, docs/privacy.md)
        {{ pseudonymise_mentions('caption_text') }} as caption,
        {{ extract_hashtags('caption_text') }} as hashtags
    from (select distinct caption_text from deduplicated) as distinct_captions

)

select
    deduplicated.post_id,
    deduplicated.account_id,
    deduplicated.round_id,
    deduplicated.record_id,
    deduplicated.listing_source,
    deduplicated.page_position,
    captions.caption,
    captions.hashtags,
    deduplicated.media_type,
    deduplicated.media_product_type,
    deduplicated.posted_at,
    deduplicated.like_count,
    deduplicated.comments_count,
    deduplicated.permalink,
    deduplicated.captured_at,
    deduplicated.ingested_at
from deduplicated
-- a post without a caption keeps none (null never matches)
left join captions
    on captions.caption_text = deduplicated.caption_text
