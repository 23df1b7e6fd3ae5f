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

)

select
    platform,
    account_id,
    dimension,
    segment,
    cast(value as {{ type_exact_numeric() }}) / dimension_total as share,
    value as followers_in_segment,
    captured_at
from latest
where dimension_total > 0
