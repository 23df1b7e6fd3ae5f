-- One row per (story id, capture) of Instagram story insights: a story's own metric set
-- (reach, replies, navigation, shares, total_interactions, views). A metric missing from `data`
-- is null, not 0. Refusals (error 10 under five viewers) are error answers and give no row.
-- Incremental on bronze's ingested_at (macros/incremental.sql).

{{
    config(
        materialized='incremental',
        unique_key=['story_id', 'captured_at'],
        incremental_strategy='delete+insert',
        on_schema_change='fail'
    )
}}

with

source as (

    select * from {{ source('bronze', 'instagram_story_insights') }}
    where http_status = 200
        and body is not null
        and object_id is not null
        and {{ json_type('body', 'data') }} = 'array'
        {{ bronze_increment() }}

),

metrics as (

    select
        source.record_id,
        {{ json_text('metric.value', 'name') }} as metric_name,
        coalesce(
            {{ json_bigint('metric.value', 'values', 0, 'value') }},
            {{ json_bigint('metric.value', 'total_value', 'value') }}
        ) as metric_value
    from source
    {{ json_array_rows('source.body', 'metric', 'data') }}

),

pivoted as (

    select
        source.object_id as story_id,
        source.account_id,
        source.round_id,
        source.record_id,
        max(case when metrics.metric_name = 'reach' then metrics.metric_value end) as reach,
        max(case when metrics.metric_name = 'replies' then metrics.metric_value end) as replies,
        max(case when metrics.metric_name = 'navigation' then metrics.metric_value end) as navigation,
        max(case when metrics.metric_name = 'shares' then metrics.metric_value end) as shares,
        max(case when metrics.metric_name = 'total_interactions' then metrics.metric_value end)
            as total_interactions,
        max(case when metrics.metric_name = 'views' then metrics.metric_value end) as views,
        source.fetched_at as captured_at,
        source.ingested_at
    from source
    left join metrics
        on metrics.record_id = source.record_id
    group by
        source.object_id,
        source.account_id,
        source.round_id,
        source.record_id,
        source.fetched_at,
        source.ingested_at

),

deduplicated as (

    select
        *,
        row_number() over (partition by story_id, captured_at order by record_id desc) as duplicate_rank
    from pivoted

)

select
    story_id,
    account_id,
    round_id,
    record_id,
    reach,
    replies,
    navigation,
    shares,
    total_interactions,
    views,
    captured_at,
    ingested_at
from deduplicated
where duplicate_rank = 1
