-- One row per (media id, capture) of Instagram media insights. A metric missing from `data` is
-- null, not 0: Instagram answers "no data" with an empty set, and some metrics are refused per type.
-- Incremental on bronze's ingested_at (macros/incremental.sql); the body: macros/instagram_insights.sql.
-- Each build logs the posts it changed, for int_post_snapshots__instagram (log_post_changes).

{{
    config(
        materialized='incremental',
        unique_key=['post_id', 'captured_at'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="{{ log_post_changes('instagram') }}"
    )
}}

{{ instagram_insights(
    'instagram_media_insights',
    'post_id',
    ['reach', 'saved', 'shares', 'views', 'total_interactions']
) }}
