-- One row per answer about a single Instagram post (deletion probes): `exists` (200 with the id)
-- or `not_found` (HTTP 400, error 100 with subcode 33). Other answers (throttling, token errors)
-- say nothing about the post and are left out. A not-found alone is not a deletion: throttling has
-- surfaced as 100/33 too, so int_posts also requires a complete listing without the post.
-- Incremental on bronze's ingested_at (macros/incremental.sql), so it keeps what retention purges.

{{
    config(
        materialized='incremental',
        unique_key=['record_id'],
        incremental_strategy='delete+insert',
        on_schema_change='fail'
    )
}}

with

source as (

    select * from {{ source('bronze', 'instagram_media_object') }}
    where http_status in (200, 400)
        and body is not null
        {{ bronze_increment() }}

),

answers as (

    select
        record_id,
        coalesce(object_id, {{ json_text('body', 'id') }}) as post_id,
        account_id,
        http_status,
        case
            when http_status = 200 and {{ json_text('body', 'id') }} is not null
                then 'exists'
            when http_status = 400
                and (
                    (
                        {{ json_bigint('body', 'error', 'code') }} = 100
                        and {{ json_bigint('body', 'error', 'error_subcode') }} = 33
                    )
                    or {{ json_bigint('body', 'error', 'code') }} = 33
                )
                then 'not_found'
        end as answer,
        fetched_at as checked_at,
        ingested_at
    from source

)

select
    record_id,
    post_id,
    account_id,
    http_status,
    answer,
    checked_at,
    ingested_at
from answers
where answer is not null
    and post_id is not null
