{#-
    JSON access, the one warehouse-specific part of silver. Every model reads bronze JSON through
    these macros only, so porting the project to another warehouse means adding a dispatch
    implementation here (e.g. snowflake__json_text), not editing models.

    Paths are given as separate arguments: json_text('body', 'paging', 'next'); array positions
    are numbers: json_text('item', 'dimension_values', 0).
-#}

{% macro _json_path(path) -%}
    '{{ "{" ~ (path | join(",")) ~ "}" }}'
{%- endmacro %}

{#- A path of one object key, as the SQL literal `->` and `->>` take; none for any other path.
    One key is read without a path array to unpack at every call (a count read out of 1,500,000
    Instagram media items, with json_bigint's number cast: 0.72 s against 1.2 s). -#}
{% macro _json_key(path) -%}
    {%- if path | length == 1 and path[0] is string -%}
        {{ return("'" ~ (path[0] | replace("'", "''")) ~ "'") }}
    {%- endif -%}
    {{ return(none) }}
{%- endmacro %}

{# The value at path as text (strings unquoted), null when absent. #}
{% macro json_text(column) -%}
    {{ return(adapter.dispatch('json_text', 'analisa')(column, varargs)) }}
{%- endmacro %}
{% macro postgres__json_text(column, path) -%}
    {%- set key = analisa._json_key(path) -%}
    {%- if key is not none -%}
        ({{ column }} ->> {{ key }})
    {%- else -%}
        ({{ column }} #>> {{ analisa._json_path(path) }})
    {%- endif -%}
{%- endmacro %}

{# The JSON value at path (still JSON), null when absent. #}
{% macro json_get(column) -%}
    {{ return(adapter.dispatch('json_get', 'analisa')(column, varargs)) }}
{%- endmacro %}
{% macro postgres__json_get(column, path) -%}
    {%- set key = analisa._json_key(path) -%}
    {%- if path | length == 0 -%}
        ({{ column }})
    {%- elif key is not none -%}
        ({{ column }} -> {{ key }})
    {%- else -%}
        ({{ column }} #> {{ analisa._json_path(path) }})
    {%- endif -%}
{%- endmacro %}

{# The JSON type at path: 'object', 'array', 'string', 'number', 'boolean', 'null'; null when absent. #}
{% macro json_type(column) -%}
    {{ return(adapter.dispatch('json_type', 'analisa')(column, varargs)) }}
{%- endmacro %}
{% macro postgres__json_type(column, path) -%}
    jsonb_typeof({{ analisa.postgres__json_get(column, path) }})
{%- endmacro %}

{#- An integer count at path: a JSON number, or a string of digits (counts sometimes come
    quoted). Anything else (text, out-of-range numbers) is null, never an error: one odd value must
    not stop the build. A fractional number is rounded. -#}
{% macro json_bigint(column) -%}
    {{ return(adapter.dispatch('json_bigint', 'analisa')(column, varargs)) }}
{%- endmacro %}
{% macro postgres__json_bigint(column, path) -%}
    (case
        {# nested case: Postgres does not promise to evaluate `and` left to right #}
        when jsonb_typeof({{ analisa.postgres__json_get(column, path) }}) = 'number' then (case
            {#- a JSON number is a numeric already: cast, not printed and parsed again #}
            when abs(cast({{ analisa.postgres__json_get(column, path) }} as numeric)) < 1e18
                then cast(cast({{ analisa.postgres__json_get(column, path) }} as numeric) as bigint)
        end)
        when {{ analisa.postgres__json_text(column, path) }} ~ '^-?[0-9]{1,18}$'
            then cast({{ analisa.postgres__json_text(column, path) }} as bigint)
    end)
{%- endmacro %}

{#- One row per element of a JSON array, as a join clause: `from t {{ json_array_rows('t.body', 'item', 'data') }}`
    gives item.value (the element) and item.position (1-based). A missing or non-array value gives no rows. -#}
{% macro json_array_rows(column, alias) -%}
    {{ return(adapter.dispatch('json_array_rows', 'analisa')(column, alias, varargs)) }}
{%- endmacro %}
{% macro postgres__json_array_rows(column, alias, path) -%}
    {%- set arr = analisa.postgres__json_get(column, path) -%}
    cross join lateral jsonb_array_elements(
        case when jsonb_typeof({{ arr }}) = 'array' then {{ arr }} else '[]'::jsonb end
    ) with ordinality as {{ alias }} (value, position)
{%- endmacro %}

{# The elements of a JSON array of scalars joined into one text, in array order. #}
{% macro json_array_join(column, separator) -%}
    {{ return(adapter.dispatch('json_array_join', 'analisa')(column, separator, varargs)) }}
{%- endmacro %}
{% macro postgres__json_array_join(column, separator, path) -%}
    {%- set arr = analisa.postgres__json_get(column, path) -%}
    (case when jsonb_typeof({{ arr }}) = 'array' then (
        select string_agg(element, '{{ separator }}' order by position)
        from jsonb_array_elements_text({{ arr }}) with ordinality as elements (element, position)
    ) end)
{%- endmacro %}

{# True when the JSON array at path holds an object whose `key` equals value_sql (as text). #}
{% macro json_array_has(column, key, value_sql) -%}
    {{ return(adapter.dispatch('json_array_has', 'analisa')(column, key, value_sql, varargs)) }}
{%- endmacro %}
{% macro postgres__json_array_has(column, key, value_sql, path) -%}
    {%- set arr = analisa.postgres__json_get(column, path) -%}
    (jsonb_typeof({{ arr }}) = 'array' and exists (
        select 1 from jsonb_array_elements({{ arr }}) as elements (element)
        where elements.element ->> '{{ key }}' = {{ value_sql }}
    ))
{%- endmacro %}

{# True when the JSON array at path holds an element without a non-null `key`. #}
{% macro json_array_has_missing(column, key) -%}
    {{ return(adapter.dispatch('json_array_has_missing', 'analisa')(column, key, varargs)) }}
{%- endmacro %}
{% macro postgres__json_array_has_missing(column, key, path) -%}
    {%- set arr = analisa.postgres__json_get(column, path) -%}
    (jsonb_typeof({{ arr }}) = 'array' and exists (
        select 1 from jsonb_array_elements({{ arr }}) as elements (element)
        where (elements.element ->> '{{ key }}') is null
    ))
{%- endmacro %}

{#- One row per element of a JSON array, as a from item (json_array_rows is a join clause): inside a
    lateral subquery, `from {{ json_array_elements('t.body', 'item', 'data') }}` gives item.value and
    item.position for the outer row's array only, so one record's array can be aggregated without
    joining every element back to its record. A missing or non-array value gives no rows. -#}
{% macro json_array_elements(column, alias) -%}
    {{ return(adapter.dispatch('json_array_elements', 'analisa')(column, alias, varargs)) }}
{%- endmacro %}
{% macro postgres__json_array_elements(column, alias, path) -%}
    {%- set arr = analisa.postgres__json_get(column, path) -%}
    jsonb_array_elements(
        case when jsonb_typeof({{ arr }}) = 'array' then {{ arr }} else '[]'::jsonb end
    ) with ordinality as {{ alias }} (value, position)
{%- endmacro %}
