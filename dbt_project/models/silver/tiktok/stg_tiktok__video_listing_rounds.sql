-- One row per TikTok video listing round (all video/list pages of one round_id for one account).
-- Complete when every page is a 200 "ok" answer with a `data.videos` array and one page says
-- `has_more: false` (same reasoning as stg_instagram__media_listing_rounds).
-- Incremental on bronze's ingested_at (macros/incremental.sql), so it keeps what retention purges:
-- a build re-reads every page of each round that gained a page since the last build.

{{
    config(
        materialized='incremental',
        unique_key=['account_id', 'round_id'],
        incremental_strategy='delete+insert',
        on_schema_change='fail'
    )
}}

with

touched as (

    select distinct account_id, round_id
    from {{ source('bronze', 'tiktok_video_list') }}
    where true
        {{ bronze_increment() }}

),

pages as (

    select
        account_id,
        round_id,
        fetched_at,
        ingested_at,
        -- the collector records the request body; a page asked with a cursor is not the first.
        -- An imported page without its request cannot say, and is taken as asked from the start.
        case when coalesce(request, '') not like '%"cursor"%' then 1 else 0 end as is_first_page,
        row_number() over (
            partition by account_id, round_id order by fetched_at, record_id
        ) as page_order,
        case
            when http_status = 200
                and body is not null
                and coalesce({{ json_text('body', 'error', 'code') }}, 'ok') = 'ok'
                and {{ json_type('body', 'data', 'videos') }} = 'array'
                then 1
            else 0
        end as is_usable,
        case
            when http_status = 200
                and body is not null
                and coalesce({{ json_text('body', 'error', 'code') }}, 'ok') = 'ok'
                and {{ json_type('body', 'data', 'videos') }} = 'array'
                and {{ json_text('body', 'data', 'has_more') }} = 'false'
                then 1
            else 0
        end as is_last_page
    from {{ source('bronze', 'tiktok_video_list') }} as page
    where (page.account_id, page.round_id) in (select account_id, round_id from touched)

),

rounds as (

    select
        account_id,
        round_id,
        min(fetched_at) as started_at,
        max(fetched_at) as ended_at,
        max(ingested_at) as ingested_at,
        count(*) as pages,
        sum(is_usable) as usable_pages,
        max(is_last_page) as has_last_page,
        max(case when page_order = 1 then is_first_page else 0 end) as starts_at_first_page
    from pages
    group by account_id, round_id

)

select
    account_id,
    round_id,
    started_at,
    ended_at,
    pages,
    usable_pages,
    (starts_at_first_page = 1) as starts_at_first_page,
    (usable_pages = pages and has_last_page = 1 and starts_at_first_page = 1) as is_complete,
    ingested_at
from rounds
