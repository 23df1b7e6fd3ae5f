{#- Time and text helpers whose SQL differs between warehouses. -#}

{# A timestamp that keeps its time zone (dbt.type_timestamp() is zone-less on Postgres). #}
{% macro type_timestamptz() -%}
    {{ return(adapter.dispatch('type_timestamptz', 'analisa')()) }}
{%- endmacro %}
{% macro default__type_timestamptz() -%}
    timestamp with time zone
{%- endmacro %}

{# Instagram's "2026-10-02T14:03:11+0000" (ISO 8601, offset without colon) to a timestamp. #}
{% macro parse_iso_timestamp(text_sql) -%}
    {{ return(adapter.dispatch('parse_iso_timestamp', 'analisa')(text_sql)) }}
{%- endmacro %}
{% macro postgres__parse_iso_timestamp(text_sql) -%}
    (case when {{ text_sql }} ~ '^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}'
        then cast({{ text_sql }} as timestamp with time zone) end)
{%- endmacro %}

{# TikTok's create_time (seconds since the epoch, UTC) to a timestamp. #}
{% macro epoch_to_timestamp(seconds_sql) -%}
    {{ return(adapter.dispatch('epoch_to_timestamp', 'analisa')(seconds_sql)) }}
{%- endmacro %}
{% macro postgres__epoch_to_timestamp(seconds_sql) -%}
    to_timestamp({{ seconds_sql }})
{%- endmacro %}

{# Lowercase hashtags of a caption, comma-separated in order of appearance (null when none). #}
{% macro extract_hashtags(text_sql) -%}
    {{ return(adapter.dispatch('extract_hashtags', 'analisa')(text_sql)) }}
{%- endmacro %}
{% macro postgres__extract_hashtags(text_sql) -%}
    (select string_agg(lower(tag[1]), ',')
     from regexp_matches({{ text_sql }}, '#([[:alnum:]_]+)', 'g') as tags (tag))
{%- endmacro %}

{# The first capture group of a regular expression in text, null when it does not match. #}
{% macro regexp_capture(text_sql, pattern) -%}
    {{ return(adapter.dispatch('regexp_capture', 'analisa')(text_sql, pattern)) }}
{%- endmacro %}
{% macro postgres__regexp_capture(text_sql, pattern) -%}
    substring({{ text_sql }} from '{{ pattern }}')
{%- endmacro %}

{#- An exact decimal without fixed scale, for rates and shares (dbt.type_numeric() is
    numeric(28,6) on Postgres, which would cut shares to 6 decimals). -#}
{% macro type_exact_numeric() -%}
    {{ return(adapter.dispatch('type_exact_numeric', 'analisa')()) }}
{%- endmacro %}
{% macro default__type_exact_numeric() -%}
    numeric
{%- endmacro %}

{#- `with name as {{ computed_once() }} (...)`: the CTE is computed once and its rows kept, where
    the database lets a query say so (PostgreSQL 12+). For an aggregate joined back to rows the
    planner expects few of: without it, a plan that loops over them (an incremental build's small
    set of accounts) computes the aggregate again on every loop. -#}
{% macro computed_once() -%}
    {{ return(adapter.dispatch('computed_once', 'analisa')()) }}
{%- endmacro %}
{% macro default__computed_once() -%}
{%- endmacro %}
{% macro postgres__computed_once() -%}
    materialized
{%- endmacro %}

{#- `with name as {{ computed_where_used() }} (...)`: the CTE is computed again wherever it is
    read, where the database lets a query say so (PostgreSQL 12+, which otherwise keeps the rows
    of a CTE read twice). Kept rows cannot be read by parallel workers: a cheap CTE read twice by
    a large query is better computed twice, in parallel. -#}
{% macro computed_where_used() -%}
    {{ return(adapter.dispatch('computed_where_used', 'analisa')()) }}
{%- endmacro %}
{% macro default__computed_where_used() -%}
{%- endmacro %}
{% macro postgres__computed_where_used() -%}
    not materialized
{%- endmacro %}
