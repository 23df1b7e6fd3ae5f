-- One row per (platform, post, capture): what a listing said about a post, with the Instagram
-- insights in force for that capture; TikTok listings carry their own shares and views.
-- Likes null = hidden. A view of one table per platform (int_post_snapshots__instagram,
-- __tiktok), built side by side: one table was the longest silver model (19.9 s for 3,000,000
-- captures, most of it writing them, on one core while the other had nothing left to do),
-- and the TikTok half waited for Instagram's insights. The data tests are the tables'; the
-- models built from them follow the posts each logs (macros/incremental.sql).

{{ config(materialized='view') }}

select
    platform,
    account_id,
    post_id,
    posted_at,
    media_type,
    caption,
    hashtags,
    likes,
    likes_hidden,
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
from {{ ref('int_post_snapshots__instagram') }}

union all

select
    platform,
    account_id,
    post_id,
    posted_at,
    media_type,
    caption,
    hashtags,
    likes,
    likes_hidden,
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
from {{ ref('int_post_snapshots__tiktok') }}
