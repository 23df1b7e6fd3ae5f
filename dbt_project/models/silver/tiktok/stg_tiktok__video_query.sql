-- One row per answer about a TikTok video (deletion probes through /v2/video/query/).
-- A missing video is simply absent from `data.videos`, so the answer cannot name it: the
-- collector writes the asked id as object_id (one id per probe). A 200 "ok" answer without that
-- id is `not_found`; every video the answer does hold is `exists`.
-- Incremental on bronze's ingested_at (macros/incremental.sql), so it keeps what retention purges.

{{
    config(
        materialized='incremental',
        unique_key=['record_id', 'post_id'],
        incremental_strategy='delete+insert',
        on_schema_change='fail'
    )
}}

with

source as (

    select * from {{ source('bronze', 'tiktok_video_query') }}
    where http_status = 200
        and body is not null
        and coalesce({{ json_text('body', 'error', 'code') }}, 'ok') = 'ok'
        and {{ json_type('body', 'data', 'videos') }} = 'array'
        {{ bronze_increment() }}

),

asked as (

    select
        record_id,
        object_id as post_id,
        account_id,
        case
            when {{ json_array_has('body', 'id', 'source.object_id', 'data', 'videos') }} then 'exists'
            else 'not_found'
        end as answer,
        fetched_at as checked_at,
        ingested_at
    from source
    where object_id is not null

),

returned as (

    select
        source.record_id,
        {{ json_text('video.value', 'id') }} as post_id,
        source.account_id,
        'exists' as answer,
        source.fetched_at as checked_at,
        source.ingested_at
    from source
    {{ json_array_rows('source.body', 'video', 'data', 'videos') }}
    where source.object_id is null
        or {{ json_text('video.value', 'id') }} <> source.object_id

)

select record_id, post_id, account_id, answer, checked_at, ingested_at from asked
union all
select record_id, post_id, account_id, answer, checked_at, ingested_at from returned
where post_id is not null
