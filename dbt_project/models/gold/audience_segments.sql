-- One row per (platform, account, dimension, segment) from the latest capture of that account and
-- dimension. Formulas in audience_segments.yml.
--
-- Account-incremental (macros/incremental.sql, "Account-incremental gold"): a build computes again
-- the segments of the accounts whose captures changed, and keeps every other row.

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    indexes=[{'columns': ['platform', 'account_id']}],
    pre_hook="{{ follow_accounts() }}",
) }}

with

demographics as (

    select * from {{ ref('int_audience_demographics') }}
    where true
    {{ only_changed_accounts('platform', 'account_id') }}

),

-- the captures with a follower count (an answer without counts says nothing about them)
snapshots as (

    select platform, account_id, followers, captured_at
    from {{ ref('int_account_snapshots') }}
    where followers is not null
    {{ only_changed_accounts('platform', 'account_id') }}

),

-- the latest capture of each account and dimension, its total beside each segment: windows over
-- one pass, not a join of the rows back to their own maximum (the planner misjudges how many rows
-- such a join keeps: 86 s at 1,000 accounts in benchmarks/pipeline.py)
ranked as (

    select
        demographics.*,
        rank() over (
            partition by demographics.platform, demographics.account_id, demographics.dimension
            order by demographics.captured_at desc
        ) as capture_rank
    from demographics

),

latest as (

    select
        ranked.*,
        sum(ranked.value) over (
            partition by ranked.platform, ranked.account_id, ranked.dimension
        ) as dimension_total
    from ranked
    where ranked.capture_rank = 1

),

-- followers in force at the demographics capture (point in time), for the coverage: looked up
-- for each segment row (one per segment and capture: the model's unique key)
with_followers as (

    select
        latest.*,
        snapshots.followers as followers_at_capture,
        row_number() over (
            partition by latest.platform, latest.account_id, latest.dimension, latest.segment
            order by snapshots.captured_at desc
        ) as snapshot_rank
    from latest
    left join snapshots
        on snapshots.platform = latest.platform
        and snapshots.account_id = latest.account_id
        and snapshots.captured_at <= latest.captured_at

)

select
    platform,
    account_id,
    dimension,
    segment,
    cast(value as {{ type_exact_numeric() }}) / dimension_total as share,
    value as followers_in_segment,
    dimension_total as followers_returned,
    followers_at_capture,
    case
        when followers_at_capture > 0
            then round(
                cast(dimension_total as {{ type_exact_numeric() }})
                / followers_at_capture,
                4
            )
    end as coverage,
    captured_at
from with_followers
where snapshot_rank = 1
    and dimension_total > 0
