-- One row per (platform, post, interest, method): the interests found in each post's caption,
-- by the taxonomy's terms or the enrichment's model. Formulas in post_interests.yml. A view of
-- the tables of both platforms, built side by side (macros/post_interests.sql says why).

{{ config(materialized='view') }}

select
    platform,
    account_id,
    post_id,
    interest,
    matched_terms,
    terms_matched,
    posted_at,
    is_deleted,
    method,
    score,
    interest_rank,
    model_version
from {{ ref('post_interests__instagram') }}

union all

select
    platform,
    account_id,
    post_id,
    interest,
    matched_terms,
    terms_matched,
    posted_at,
    is_deleted,
    method,
    score,
    interest_rank,
    model_version
from {{ ref('post_interests__tiktok') }}
