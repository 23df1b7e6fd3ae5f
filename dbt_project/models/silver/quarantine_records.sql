-- One row per bronze record that silver cannot use, with the reason. Bronze keeps the record
-- untouched (raw is sacred); this is the list to look at. Only malformed answers land here:
-- error answers (throttling, token) are expected traffic, and odd values such as negative counts
-- flow on to int_* where the silver Great Expectations gate judges them.
-- Incremental on bronze's ingested_at (macros/incremental.sql), so it keeps what retention purges.

{{
    config(
        materialized='incremental',
        unique_key=['record_id'],
        incremental_strategy='delete+insert',
        on_schema_change='fail'
    )
}}

with

classified as (

    {#- every bronze source (one per catalog endpoint, _bronze__sources.yml), never a list of our own -#}
    {% set views = [] %}
    {% if execute %}
        {% for node in graph.sources.values() if node.source_name == 'bronze' %}
            {% do views.append(node.name) %}
        {% endfor %}
    {% endif %}
    {% for view in views | sort %}
    {#- A view holds the records of one endpoint (its name is `<platform>_<endpoint>`,
        analisa/core/catalog.py), so its checks name the endpoint as a constant: PostgreSQL drops
        the other endpoints' checks when it plans, instead of comparing every record with each of
        them (and compiling all of them once per view). -#}
    {% set found = namespace(endpoint='endpoint') %}
    {% for platform in var('platforms') if view.startswith(platform ~ '_') %}
        {% set found.endpoint = "'" ~ view[(platform | length) + 1:] ~ "'" %}
    {% endfor %}
    {% set endpoint = found.endpoint %}
    select
        record_id,
        record_hash,
        platform,
        endpoint,
        account_id,
        object_id,
        http_status,
        fetched_at,
        case
            when body is null and parse_error is not null
                then 'body is not valid JSON'
            when body is null
                then 'body could not be stored as JSON'
            when http_status <> 200
                then null

            when {{ endpoint }} = 'user' and {{ json_type('body', 'business_discovery') }} = 'object'
                and {{ json_text('body', 'business_discovery', 'id') }} is null
                then 'business discovery answer without id'
            when {{ endpoint }} = 'user' and coalesce({{ json_type('body', 'business_discovery') }}, 'null') <> 'object'
                and coalesce({{ json_text('body', 'user_id') }}, {{ json_text('body', 'id') }}) is null
                then 'user answer without id'

            when {{ endpoint }} = 'media' and coalesce({{ json_type('body', 'data') }}, '') <> 'array'
                then 'media page without data array'
            when {{ endpoint }} = 'media' and {{ json_array_has_missing('body', 'id', 'data') }}
                then 'media item without id'

            when {{ endpoint }} = 'media_insights' and coalesce({{ json_type('body', 'data') }}, '') <> 'array'
                then 'media insights without data array'
            when {{ endpoint }} = 'media_insights' and object_id is null
                then 'media insights without object_id'

            when {{ endpoint }} = 'user_insights' and coalesce({{ json_type('body', 'data') }}, '') <> 'array'
                then 'user insights without data array'

            when {{ endpoint }} = 'media_object' and {{ json_text('body', 'id') }} is null
                then 'media object answer without id'

            when {{ endpoint }} = 'stories' and coalesce({{ json_type('body', 'data') }}, '') <> 'array'
                then 'stories page without data array'
            when {{ endpoint }} = 'stories' and {{ json_array_has_missing('body', 'id', 'data') }}
                then 'story without id'
            when {{ endpoint }} = 'story_insights' and coalesce({{ json_type('body', 'data') }}, '') <> 'array'
                then 'story insights without data array'

            when {{ endpoint }} = 'user_info' and coalesce({{ json_type('body', 'data', 'user') }}, '') <> 'object'
                then 'user info without data.user'

            when {{ endpoint }} in ('video_list', 'video_query')
                and coalesce({{ json_text('body', 'error', 'code') }}, 'ok') <> 'ok'
                then 'error in a 200 answer'
            when {{ endpoint }} in ('video_list', 'video_query')
                and coalesce({{ json_type('body', 'data', 'videos') }}, '') <> 'array'
                then 'videos page without data.videos array'
            when {{ endpoint }} = 'video_list' and {{ json_array_has_missing('body', 'id', 'data', 'videos') }}
                then 'video without id'
        end as reason,
        parse_error as detail,
        ingested_at
    from {{ source('bronze', view) }}
    where true
        {{ bronze_increment() }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

)

select
    record_id,
    record_hash,
    platform,
    endpoint,
    account_id,
    object_id,
    http_status,
    fetched_at,
    reason,
    detail,
    ingested_at
from classified
where reason is not null
