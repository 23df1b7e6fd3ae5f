{#- The workspace the example brands of the seed land in: `default`, the workspace of a
    single-tenant install, which migration 018 creates and `analisa brands add` uses when no
    --workspace is given. The dbt var example_brands_workspace overrides it. -#}
{% macro example_brands_workspace() -%}
    {{ return(var('example_brands_workspace', 'default')) }}
{%- endmacro %}
