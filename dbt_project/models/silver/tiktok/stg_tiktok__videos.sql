-- One row per (video id, capture) of TikTok video list pages.
-- Incremental on bronze's ingested_at (macros/incremental.sql).
-- Each build logs the posts it changed, for int_post_snapshots__tiktok (log_post_changes).

{{
    config(
        materialized='incremental',
        unique_key=['post_id', 'captured_at'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="{{ log_post_changes('tiktok') }}"
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

deduplicated as (

    -- the kept answer of each (video, capture) is chosen on the keys alone, before the text work
    -- below, which is then done once per kept row; the values are read out of the answer here,
    -- so the rows joined to their texts below carry the values, not the whole answer
    select *
    from (
        select
            {{ json_text('video', 'id') }} as post_id,
            account_id,
            round_id,
            record_id,
            page_position,
            {{ epoch_to_timestamp(json_bigint('video', 'create_time')) }} as posted_at,
            {{ json_bigint('video', 'duration') }} as duration_seconds,
            {{ json_bigint('video', 'like_count') }} as like_count,
            {{ json_bigint('video', 'comment_count') }} as comment_count,
            {{ json_bigint('video', 'share_count') }} as share_count,
            {{ json_bigint('video', 'view_count') }} as view_count,
            {{ json_text('video', 'title') }} as title_text,
            {{ json_text('video', 'video_description') }} as description_text,
            fetched_at as captured_at,
            ingested_at,
            row_number() over (
                partition by {{ json_text('video', 'id') }}, fetched_at order by record_id desc
            ) as duplicate_rank
        from listed
        where {{ json_text('video', 'id') }} is not null
    ) as ranked
    where duplicate_rank = 1

),

texts as (

    -- a video keeps its title and description from capture to capture: each different text is
    -- pseudonymised and searched for hashtags once, not once per capture and column
    select
        text_value,
        -- other people's @handles become pseudonyms (macros/pseudonyms.sql, docs/privacy.md)
        {{ pseudonymise_mentions('text_value') }} as pseudonymised,
        {{ extract_hashtags('text_value') }} as hashtags
    from (
        select title_text as text_value from deduplicated
        union
        select description_text as text_value from deduplicated
    ) as distinct_texts

)

select
    deduplicated.post_id,
    deduplicated.account_id,
    deduplicated.round_id,
    deduplicated.record_id,
    deduplicated.page_position,
    titles.pseudonymised as title,
    descriptions.pseudonymised as video_description,
    -- the caption is the description, or the title when there is none; a text is pseudonymised
    -- into an empty text only when it was empty
    coalesce(nullif(descriptions.pseudonymised, ''), titles.pseudonymised) as caption,
    case
        when coalesce(deduplicated.description_text, '') = '' then titles.hashtags
        else descriptions.hashtags
    end as hashtags,
    'VIDEO' as media_type,
    deduplicated.posted_at,
    deduplicated.duration_seconds,
    deduplicated.like_count,
    deduplicated.comment_count,
    deduplicated.share_count,
    deduplicated.view_count,
    deduplicated.captured_at,
    deduplicated.ingested_at
from deduplicated
-- a missing text keeps none (null never matches)
left join texts as titles
    on titles.text_value = deduplicated.title_text
left join texts as descriptions
    on descriptions.text_value = deduplicated.description_text
