{#- `+schema: silver` means the schema `silver`, not `<target schema>_silver`: the layers are
    fixed schemas that the API, the exports and the analyst role read by name. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
