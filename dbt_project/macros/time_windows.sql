{#- Calendar days of capture times. A day is a UTC day whatever the session's time zone, so a
    rebuild on another server (or by an analyst in São Paulo) cuts the same days. -#}
{% macro utc_date(timestamp_sql) -%}
    {{ return(adapter.dispatch('utc_date', 'analisa')(timestamp_sql)) }}
{%- endmacro %}
{% macro default__utc_date(timestamp_sql) -%}
    cast({{ dbt.convert_timezone('UTC', timestamp_sql) }} as date)
{%- endmacro %}
{% macro postgres__utc_date(timestamp_sql) -%}
    cast(({{ timestamp_sql }}) at time zone 'UTC' as date)
{%- endmacro %}
