{#
    The body of an Instagram insights staging model (media or story insights): one row per
    (object, capture), one column per metric in `metrics` (in that order). A metric missing
    from `data` is null, not 0: Instagram answers "no data" with an empty set, and some metrics
    are refused per type. Lifetime metrics answer in values[0].value; metric_type=total_value
    answers in total_value.value. Two answers of one object at one capture time keep the
    latest record. Incremental on bronze's ingested_at (macros/incremental.sql).
#}
{% macro instagram_insights(source_name, id_column, metrics) %}

with

source as (

    select * from {{ source('bronze', source_name) }}
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
        source.object_id as {{ id_column }},
        source.account_id,
        source.round_id,
        source.record_id,
        {%- for metric in metrics %}
        max(case when metrics.metric_name = '{{ metric }}' then metrics.metric_value end)
            as {{ metric }},
        {%- endfor %}
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
        row_number() over (
            partition by {{ id_column }}, captured_at order by record_id desc
        ) as duplicate_rank
    from pivoted

)

select
    {{ id_column }},
    account_id,
    round_id,
    record_id,
    {%- for metric in metrics %}
    {{ metric }},
    {%- endfor %}
    captured_at,
    ingested_at
from deduplicated
where duplicate_rank = 1

{% endmacro %}
