-- One row per (media id, capture): the posts of Instagram media list pages, plus the media that
-- Business Discovery answers carry for creators who have not connected.
-- Incremental on bronze's ingested_at (macros/incremental.sql).

{{
    config(
        materialized='incremental',
        unique_key=['post_id', 'captured_at'],
        incremental_strategy='delete+insert',
        on_schema_change='fail'
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

renamed as (

    select
        {{ json_text('item', 'id') }} as post_id,
        account_id,
        round_id,
        record_id,
        listing_source,
        page_position,
        -- other people's @handles become pseudonyms (macros/pseudonyms.sql, docs/privacy.md)
        {{ pseudonymise_mentions(json_text('item', 'caption')) }} as caption,
        {{ extract_hashtags(json_text('item', 'caption')) }} as hashtags,
        {{ json_text('item', 'media_type') }} as media_type,
        {{ json_text('item', 'media_product_type') }} as media_product_type,
        {{ parse_iso_timestamp(json_text('item', 'timestamp')) }} as posted_at,
        -- absent when the owner hides likes: stays null, never 0
        {{ json_bigint('item', 'like_count') }} as like_count,
        {{ json_bigint('item', 'comments_count') }} as comments_count,
        {{ json_text('item', 'permalink') }} as permalink,
        fetched_at as captured_at,
        ingested_at
    from listed

),

deduplicated as (

    select
        *,
        row_number() over (
            partition by post_id, captured_at
            order by case when listing_source = 'media' then 0 else 1 end, record_id desc
        ) as duplicate_rank
    from renamed
    where post_id is not null

)

select
    post_id,
    account_id,
    round_id,
    record_id,
    listing_source,
    page_position,
    caption,
    hashtags,
    media_type,
    media_product_type,
    posted_at,
    like_count,
    comments_count,
    permalink,
    captured_at,
    ingested_at
from deduplicated
where duplicate_rank = 1
