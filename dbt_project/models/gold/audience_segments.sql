-- One row per (platform, account, dimension, segment) from the latest capture of that account and
-- dimension. Formulas in audience_segments.yml.

with

demographics as (

    select * from {{ ref('int_audience_demographics') }}

),

latest_capture as (

    select
        platform,
        account_id,
        dimension,
        max(captured_at) as captured_at
    from demographics
    group by platform, account_id, dimension

),

latest as (

    select
        demographics.*,
        sum(demographics.value) over (
            partition by demographics.platform, demographics.account_id, demographics.dimension
        ) as dimension_total
    from demographics
    inner join latest_capture
        on latest_capture.platform = demographics.platform
        and latest_capture.account_id = demographics.account_id
        and latest_capture.dimension = demographics.dimension
        and latest_capture.captured_at = demographics.captured_at

),

-- followers in force at the demographics capture (point in time), for the coverage
followers_in_force as (

    select
        latest_capture.platform,
        latest_capture.account_id,
        latest_capture.dimension,
        snapshots.followers,
        row_number() over (
            partition by latest_capture.platform, latest_capture.account_id, latest_capture.dimension
            order by snapshots.captured_at desc
        ) as snapshot_rank
    from latest_capture
    inner join {{ ref('int_account_snapshots') }} as snapshots
        on snapshots.platform = latest_capture.platform
        and snapshots.account_id = latest_capture.account_id
        and snapshots.captured_at <= latest_capture.captured_at
        and snapshots.followers is not null

)

select
    latest.platform,
    latest.account_id,
    latest.dimension,
    latest.segment,
    cast(latest.value as {{ type_exact_numeric() }}) / latest.dimension_total as share,
    latest.value as followers_in_segment,
    latest.dimension_total as followers_returned,
    followers_in_force.followers as followers_at_capture,
    case
        when followers_in_force.followers > 0
            then round(
                cast(latest.dimension_total as {{ type_exact_numeric() }})
                / followers_in_force.followers,
                4
            )
    end as coverage,
    latest.captured_at
from latest
left join followers_in_force
    on followers_in_force.platform = latest.platform
    and followers_in_force.account_id = latest.account_id
    and followers_in_force.dimension = latest.dimension
    and followers_in_force.snapshot_rank = 1
where latest.dimension_total > 0
