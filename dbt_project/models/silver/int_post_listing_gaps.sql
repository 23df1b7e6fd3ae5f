-- One row per post that a complete listing round of its account no longer holds: a complete
-- round (int_listing_rounds) started after the post was last seen in any listing. This is the
-- first half of the deletion rule, written once (macros/deletion_rule.sql): int_posts_to_probe
-- lists the posts not probed since the latest such round, for the collector's next round; int_posts
-- applies the same macro to the posts with a "not found" probe.
--
-- Post-incremental (macros/incremental.sql): a build rebuilds the posts of the accounts with new
-- bronze records (a new complete round of an account can concern every post of it), found on
-- int_posts' index by account (as int_posts held them when this build began), and the posts
-- int_post_snapshots changed since either model last read its changes.

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ follow_bronze(['int_post_snapshots__instagram', 'int_post_snapshots__tiktok'], 'int_posts') }}",
) }}

{#- the tables of int_post_snapshots, whose changes this model follows #}
{%- set snapshots = ['int_post_snapshots__instagram', 'int_post_snapshots__tiktok'] %}

with

complete_rounds as (

    select * from {{ ref('int_listing_rounds') }}
    where is_complete

),

-- one pass over the snapshots: a post's latest capture gives both its account and when it was
-- last seen (the newest captured_at). No self-join of the snapshots: the planner misjudges how
-- many rows a rank filter keeps, and joining the rank to an aggregate of the same rows went
-- quadratic (a nested loop over every pair of posts, 30 s at 4,000 posts).
ranked as (

    select
        platform,
        post_id,
        account_id,
        captured_at,
        row_number() over (
            partition by platform, post_id order by captured_at desc, record_id desc
        ) as recency_rank
    from {{ ref('int_post_snapshots') }}
    {{ only_changed_posts('platform', 'post_id', snapshots, 'int_posts') }}

),

sightings as (

    select platform, post_id, account_id, captured_at as last_seen_at
    from ranked
    where recency_rank = 1

)

{{ complete_rounds_without_post('sightings', 'complete_rounds') }}
