-- One row per (story id, capture) of Instagram story insights: a story's own metric set
-- (reach, replies, navigation, shares, total_interactions, views). A metric missing from `data`
-- is null, not 0. Refusals (error 10 under five viewers) are error answers and give no row.
-- Incremental on bronze's ingested_at (macros/incremental.sql); the body: macros/instagram_insights.sql.

{{
    config(
        materialized='incremental',
        unique_key=['story_id', 'captured_at'],
        incremental_strategy='delete+insert',
        on_schema_change='fail'
    )
}}

{{ instagram_insights(
    'instagram_story_insights',
    'story_id',
    ['reach', 'replies', 'navigation', 'shares', 'total_interactions', 'views']
) }}
