-- One row per (video id, capture) of TikTok video list pages.
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

    select * from {{ source('bronze', 'tiktok_video_list') }}
    where http_status = 200
        and body is not null
        and coalesce({{ json_text('body', 'error', 'code') }}, 'ok') = 'ok'
        {{ bronze_increment() }}

),

listed as (

    select
        pages.record_id,
        pages.account_id,
        pages.round_id,
        pages.fetched_at,
        pages.ingested_at,
        video.position as page_position,
        video.value as video
    from pages
    {{ json_array_rows('pages.body', 'video', 'data', 'videos') }}

),

renamed as (

    select
        {{ json_text('video', 'id') }} as post_id,
        account_id,
        round_id,
        record_id,
        page_position,
        -- other people's @handles become pseudonyms (macros/pseudonyms.sql, docs/privacy.md)
        {{ pseudonymise_mentions(json_text('video', 'title')) }} as title,
        {{ pseudonymise_mentions(json_text('video', 'video_description')) }} as video_description,
        {{ pseudonymise_mentions(
            "coalesce(nullif(" ~ json_text('video', 'video_description') ~ ", ''), "
            ~ json_text('video', 'title') ~ ")"
        ) }} as caption,
        {{ extract_hashtags("coalesce(nullif(" ~ json_text('video', 'video_description') ~ ", ''), " ~ json_text('video', 'title') ~ ")") }}
            as hashtags,
        'VIDEO' as media_type,
        {{ epoch_to_timestamp(json_bigint('video', 'create_time')) }} as posted_at,
        {{ json_bigint('video', 'duration') }} as duration_seconds,
        {{ json_bigint('video', 'like_count') }} as like_count,
        {{ json_bigint('video', 'comment_count') }} as comment_count,
        {{ json_bigint('video', 'share_count') }} as share_count,
        {{ json_bigint('video', 'view_count') }} as view_count,
        fetched_at as captured_at,
        ingested_at
    from listed

),

deduplicated as (

    select
        *,
        row_number() over (partition by post_id, captured_at order by record_id desc) as duplicate_rank
    from renamed
    where post_id is not null

)

select
    post_id,
    account_id,
    round_id,
    record_id,
    page_position,
    title,
    video_description,
    caption,
    hashtags,
    media_type,
    posted_at,
    duration_seconds,
    like_count,
    comment_count,
    share_count,
    view_count,
    captured_at,
    ingested_at
from deduplicated
where duplicate_rank = 1
