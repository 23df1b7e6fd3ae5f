-- The TikTok rows of int_post_snapshots (the view, which holds both platforms' tables, built
-- side by side): one row per (post, capture), what a video listing said about a post, with
-- its own shares and views. Likes null = hidden. Staging keeps one answer per (post,
-- capture); the key (platform, post_id, captured_at) has a unique index (post-hook
-- unique_key_index).
--
-- Post-incremental (macros/incremental.sql): a build rebuilds every capture of the posts
-- stg_tiktok__videos changed since it last read them, keeps the other rows, and logs the posts
-- it rebuilt for the models built from it.

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ follow_bronze(['stg_tiktok__videos']) }}",
    post_hook="{{ log_post_changes() }}",
) }}

{%- set producers = ['stg_tiktok__videos'] %}

with

tiktok as (

    select
        'tiktok' as platform,
        account_id,
        post_id,
        posted_at,
        media_type,
        caption,
        hashtags,
        like_count as likes,
        comment_count as comments,
        share_count as shares,
        view_count as views,
        cast(null as {{ dbt.type_bigint() }}) as reach,
        cast(null as {{ dbt.type_bigint() }}) as saved,
        cast(null as {{ dbt.type_bigint() }}) as total_interactions,
        cast(null as {{ type_timestamptz() }}) as insights_captured_at,
        'video_list' as listing_source,
        round_id,
        record_id,
        captured_at
    from {{ ref('stg_tiktok__videos') }}
    {{ only_changed_posts("'tiktok'", 'post_id', producers) }}

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
from tiktok
