-- One row per (story id, capture): the stories an Instagram stories listing held when it was
-- fetched. Stories live 24 hours and are not posts: they never enter the post models, so one
-- that is no longer listed has expired, it was not deleted.
-- Incremental on bronze's ingested_at (macros/incremental.sql).

{{
    config(
        materialized='incremental',
        unique_key=['story_id', 'captured_at'],
        incremental_strategy='delete+insert',
        on_schema_change='fail'
    )
}}

with

pages as (

    select * from {{ source('bronze', 'instagram_stories') }}
    where http_status = 200
        and body is not null
        {{ bronze_increment() }}

),

listed as (

    select
        pages.record_id,
        pages.account_id,
        pages.round_id,
        pages.fetched_at,
        pages.ingested_at,
        item.position as page_position,
        item.value as item
    from pages
    {{ json_array_rows('pages.body', 'item', 'data') }}

),

renamed as (

    select
        {{ json_text('item', 'id') }} as story_id,
        account_id,
        round_id,
        record_id,
        page_position,
        {{ json_text('item', 'media_type') }} as media_type,
        {{ json_text('item', 'media_product_type') }} as media_product_type,
        {{ parse_iso_timestamp(json_text('item', 'timestamp')) }} as posted_at,
        {{ json_text('item', 'permalink') }} as permalink,
        fetched_at as captured_at,
        ingested_at
    from listed

),

deduplicated as (

    select
        *,
        row_number() over (partition by story_id, captured_at order by record_id desc) as duplicate_rank
    from renamed
    where story_id is not null

)

select
    story_id,
    account_id,
    round_id,
    record_id,
    page_position,
    media_type,
    media_product_type,
    posted_at,
    {{ dbt.dateadd('hour', 24, 'posted_at') }} as expires_at,
    permalink,
    captured_at,
    ingested_at
from deduplicated
where duplicate_rank = 1
