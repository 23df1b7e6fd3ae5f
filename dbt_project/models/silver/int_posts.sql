-- One row per (platform, post): its latest snapshot, when it was first and last seen, and whether
-- it was deleted.
--
-- Deletion needs two independent signals, because throttling can masquerade as "not found":
--   (a) a complete listing round of the post's account started after the post was last seen in any
--       listing (so that complete listing no longer holds it), and
--   (b) an answer saying the post does not exist, fetched at or after the end of such a round, and
--       not contradicted by a later answer saying it exists.
-- deleted_at = the earliest such not-found answer. A post listed again later is not deleted (its
-- last sighting moves past the round).
--
-- Post-incremental (macros/incremental.sql): a build rebuilds the posts of the accounts with new
-- bronze records (captures, listing rounds or existence answers), found on this table's index
-- by account, and the posts int_post_snapshots changed since (new posts among them), and keeps
-- the other rows.

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    indexes=[{'columns': ['platform', 'account_id']}],
    pre_hook="{{ follow_bronze(['int_post_snapshots__instagram', 'int_post_snapshots__tiktok'], 'this') }}",
) }}

{#- the tables of int_post_snapshots, whose changes this model follows #}
{%- set snapshots = ['int_post_snapshots__instagram', 'int_post_snapshots__tiktok'] %}

with

snapshots as (

    select * from {{ ref('int_post_snapshots') }}
    {{ only_changed_posts('platform', 'post_id', snapshots, 'this') }}

),

checks as (

    select * from {{ ref('int_post_existence_checks') }}
    {{ only_changed_posts('platform', 'post_id', snapshots, 'this') }}

),

-- one pass: the latest capture with the post's sightings beside it (window aggregates over the
-- same partition), never a join of the latest rows back to an aggregate of the same snapshots,
-- whose size the planner misjudges (int_post_listing_gaps says what that cost)
ranked as (

    select
        *,
        row_number() over (partition by platform, post_id order by captured_at desc, record_id desc) as recency_rank,
        min(captured_at) over (partition by platform, post_id) as first_seen_at,
        max(captured_at) over (partition by platform, post_id) as last_seen_at,
        count(*) over (partition by platform, post_id) as captures
    from snapshots

),

latest as (

    select * from ranked
    where recency_rank = 1

),

-- (a) for the posts (b) can concern, those with a not-found answer: their latest sighting, read
-- from the snapshots once more for those few posts only (reading `latest` twice would keep every
-- post's whole latest row), then the rule's first half as int_post_listing_gaps has it
-- (macros/deletion_rule.sql): the earliest complete round without the post
probed_sightings as (

    select
        platform,
        post_id,
        (array_agg(account_id order by captured_at desc, record_id desc))[1] as account_id,
        max(captured_at) as last_seen_at
    from {{ ref('int_post_snapshots') }}
    where (platform, post_id) in (
        select platform, post_id from checks where answer = 'not_found'
    )
    group by platform, post_id

),

complete_rounds as (

    select * from {{ ref('int_listing_rounds') }}
    where is_complete

),

missing_from_complete_listing as (

    select
        platform,
        post_id,
        first_listing_ended_at as listing_ended_at
    from ({{ complete_rounds_without_post('probed_sightings', 'complete_rounds') }}) as gaps

),

-- (b): not-found answers after that listing, not overturned by a later "exists"
confirmed_deletions as (

    select
        missing.platform,
        missing.post_id,
        min(not_found.checked_at) as deleted_at
    from missing_from_complete_listing as missing
    inner join checks as not_found
        on not_found.platform = missing.platform
        and not_found.post_id = missing.post_id
        and not_found.answer = 'not_found'
        and not_found.checked_at >= missing.listing_ended_at
    where not exists (
        select 1
        from checks as found_later
        where found_later.platform = not_found.platform
            and found_later.post_id = not_found.post_id
            and found_later.answer = 'exists'
            and found_later.checked_at > not_found.checked_at
    )
    group by missing.platform, missing.post_id

)

select
    latest.platform,
    latest.account_id,
    latest.post_id,
    latest.posted_at,
    latest.media_type,
    latest.caption,
    latest.hashtags,
    latest.likes,
    latest.likes_hidden,
    latest.comments,
    latest.shares,
    latest.views,
    latest.reach,
    latest.saved,
    latest.total_interactions,
    latest.first_seen_at,
    latest.last_seen_at,
    latest.captures,
    (confirmed_deletions.deleted_at is not null) as is_deleted,
    confirmed_deletions.deleted_at,
    latest.captured_at
from latest
left join confirmed_deletions
    on confirmed_deletions.platform = latest.platform
    and confirmed_deletions.post_id = latest.post_id
