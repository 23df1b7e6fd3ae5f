-- The rows of gold.post_interests of Instagram posts (macros/post_interests.sql, which says why
-- each platform has its table; the view post_interests holds both). Formulas in
-- post_interests.yml.

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    indexes=[{'columns': ['platform', 'account_id']}],
    pre_hook=[
        "{{ follow_accounts(['caption_interest_scores']) }}",
        "{{ hash_join_lookups() }}",
    ],
) }}

{{ post_interests_of('instagram') }}
