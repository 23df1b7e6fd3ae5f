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

pivoted as (

    -- one record's metrics aggregated per record (a lateral subquery over its own array): no
    -- join of every metric back to its record and no group-by over all records
    select
        source.object_id as {{ id_column }},
        source.account_id,
        source.round_id,
        source.record_id,
        {%- for metric in metrics %}
        record_metrics.{{ metric }},
        {%- endfor %}
        source.fetched_at as captured_at,
        source.ingested_at
    from source
    left join lateral (
        select
            {%- for metric in metrics %}
            max(case when metric_name = '{{ metric }}' then metric_value end) as {{ metric }}
            {%- if not loop.last %},{% endif %}
            {%- endfor %}
        from (
            select
                metric_name,
                coalesce({{ json_bigint('lifetime_value') }}, {{ json_bigint('total_value') }})
                    as metric_value
            from (
                -- offset 0 keeps PostgreSQL from copying these lookups into every max() above:
                -- each element's name and values are read once
                select
                    {{ json_text('metric.value', 'name') }} as metric_name,
                    {{ json_get('metric.value', 'values', 0, 'value') }} as lifetime_value,
                    {{ json_get('metric.value', 'total_value', 'value') }} as total_value
                from {{ json_array_elements('source.body', 'metric', 'data') }}
                offset 0
            ) as metric_fields
        ) as metric_rows
    ) as record_metrics on true

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
