-- One row per (account, dimension, segment, capture) of Instagram follower demographics.
-- breakdown=age,gender gives dimension `age_gender` and segments like "25-34|F".
-- Accounts below 100 followers get no results: no rows, which is not an error.
-- Incremental on bronze's ingested_at (macros/incremental.sql), so it keeps what retention purges.

{{
    config(
        materialized='incremental',
        unique_key=['account_id', 'dimension', 'segment', 'captured_at'],
        incremental_strategy='delete+insert',
        on_schema_change='fail'
    )
}}

with

source as (

    select * from {{ source('bronze', 'instagram_user_insights') }}
    where http_status = 200
        and body is not null
        {{ bronze_increment() }}

),

breakdowns as (

    select
        source.record_id,
        source.account_id,
        source.fetched_at,
        source.ingested_at,
        breakdown.value as breakdown,
        {{ json_array_join('breakdown.value', ',', 'dimension_keys') }} as dimension_keys
    from source
    {{ json_array_rows('source.body', 'metric', 'data') }}
    {{ json_array_rows('metric.value', 'breakdown', 'total_value', 'breakdowns') }}
    where {{ json_text('metric.value', 'name') }} = 'follower_demographics'
    -- offset 0 keeps PostgreSQL from copying the join of the keys into every use below: it is
    -- done once per breakdown
    offset 0

),

results as (

    select
        breakdowns.record_id,
        breakdowns.account_id,
        breakdowns.fetched_at,
        breakdowns.ingested_at,
        breakdowns.dimension_keys,
        result.value as result
    from breakdowns
    {{ json_array_rows('breakdowns.breakdown', 'result', 'results') }}

),

renamed as (

    select
        account_id,
        record_id,
        case
            when dimension_keys in ('age,gender', 'gender,age') then 'age_gender'
            else replace(dimension_keys, ',', '_')
        end as dimension,
        case
            -- segments of age_gender always read "age|gender"
            when dimension_keys = 'gender,age'
                then {{ dbt.concat([json_text('result', 'dimension_values', 1), "'|'", json_text('result', 'dimension_values', 0)]) }}
            else {{ json_array_join('result', '|', 'dimension_values') }}
        end as segment,
        {{ json_bigint('result', 'value') }} as value,
        fetched_at as captured_at,
        ingested_at
    from results
    -- once per result, not once per use of dimension and segment below (as above)
    offset 0

),

deduplicated as (

    select
        *,
        row_number() over (
            partition by account_id, dimension, segment, captured_at
            order by record_id desc
        ) as duplicate_rank
    from renamed
    where dimension is not null
        and segment is not null

)

select
    account_id,
    record_id,
    dimension,
    segment,
    value,
    captured_at,
    ingested_at
from deduplicated
where duplicate_rank = 1
