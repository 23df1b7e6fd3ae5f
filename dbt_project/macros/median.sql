{#- Median as an aggregate. Postgres: percentile_cont(0.5), the mean of the two middle values
    for an even count. The result is cast back to numeric so callers can round it exactly. -#}
{% macro median(expression) -%}
    {{ return(adapter.dispatch('median', 'analisa')(expression)) }}
{%- endmacro %}

{% macro default__median(expression) -%}
    cast(percentile_cont(0.5) within group (order by {{ expression }}) as {{ analisa.type_exact_numeric() }})
{%- endmacro %}
