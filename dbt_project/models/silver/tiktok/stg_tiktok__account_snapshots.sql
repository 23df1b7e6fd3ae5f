-- One row per TikTok user/info capture. account_id is the bronze account_id, which the collector
-- sets to the user's open_id (kept as open_id too, as the answer states it).
-- Incremental on bronze's ingested_at (macros/incremental.sql), so it keeps what retention purges.

{{
    config(
        materialized='incremental',
        unique_key=['account_id', 'captured_at'],
        incremental_strategy='delete+insert',
        on_schema_change='fail'
    )
}}

with

source as (

    select * from {{ source('bronze', 'tiktok_user_info') }}
    where http_status = 200
        and body is not null
        and {{ json_type('body', 'data', 'user') }} = 'object'
        {{ bronze_increment() }}

),

renamed as (

    select
        record_id,
        account_id,
        round_id,
        {{ json_text('body', 'data', 'user', 'open_id') }} as open_id,
        {{ json_text('body', 'data', 'user', 'display_name') }} as display_name,
        {{ json_bigint('body', 'data', 'user', 'follower_count') }} as follower_count,
        {{ json_bigint('body', 'data', 'user', 'following_count') }} as following_count,
        {{ json_bigint('body', 'data', 'user', 'likes_count') }} as likes_count,
        {{ json_bigint('body', 'data', 'user', 'video_count') }} as video_count,
        fetched_at as captured_at,
        ingested_at
    from source

),

deduplicated as (

    select
        *,
        row_number() over (partition by account_id, captured_at order by record_id desc) as duplicate_rank
    from renamed

)

select
    record_id,
    account_id,
    round_id,
    open_id,
    display_name,
    follower_count,
    following_count,
    likes_count,
    video_count,
    captured_at,
    ingested_at
from deduplicated
where duplicate_rank = 1
