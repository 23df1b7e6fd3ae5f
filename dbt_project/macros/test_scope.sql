{#-
    What a data test checks after an incremental build: the rows the build wrote.

    Rows an earlier build wrote were checked by that build's tests and have not changed since; a
    build of an incremental model rewrites the rows it touches (a staging model the keys of its
    new records, an account-incremental model every row of the accounts it rebuilds), and records
    its transaction in ops.bronze_watermarks (`built_xid`), which every row it wrote carries as
    `xmin`. A test then reads:
    - for a uniqueness or per-group test (unique, unique_combination, sums_to), every row whose
      key or group is among the rows written, old rows included: a new row that repeats an old
      key fails;
    - for any other test (not_null, accepted_values, expression_is_true), the rows written.
    A table built whole writes every row, so its tests read everything, as do the tests of a model
    with no recorded build. `dbt build --full-refresh` checks everything, and so does
    `dbt test --vars '{check_all_rows: true}'` whatever the last build was.

    dbt wraps the tested relation of every generic test in get_where_subquery (the test's `where`
    config is kept, and applied too).
-#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- set conditions = [] -%}
    {%- if where -%}
        {%- do conditions.append('(' ~ where ~ ')') -%}
    {%- endif -%}
    {%- set written = written_rows_condition(relation) -%}
    {%- if written -%}
        {%- do conditions.append(written) -%}
    {%- endif -%}
    {%- if conditions | length == 0 -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- set filtered -%}
        (select * from {{ relation }} where {{ conditions | join(' and ') }}) dbt_subquery
    {%- endset -%}
    {{ return(filtered) }}
{%- endmacro %}

{#- The condition keeping the rows the relation's last build wrote (and, for a uniqueness or
    per-group test, the rows sharing their key), or '' for a test that reads everything. -#}
{% macro written_rows_condition(relation) -%}
    {%- if var('check_all_rows', false) or target.type != 'postgres' or model.resource_type != 'test'
        or model.test_metadata is none or relation.schema is none -%}
        {{ return('') }}
    {%- endif -%}
    {%- set name, kwargs = model.test_metadata.name, model.test_metadata.kwargs -%}
    {%- set keys = none -%}
    {%- if name == 'unique' -%}
        {%- set keys = [kwargs.column_name] -%}
    {%- elif name == 'unique_combination' -%}
        {%- set keys = kwargs.columns -%}
    {%- elif name == 'sums_to' -%}
        {%- set keys = kwargs.group_by -%}
    {%- endif -%}
    {#- xmin is the low 32 bits of the writing transaction's id #}
    {%- set built -%}
        (select built_xid % 4294967296 from ops.bronze_watermarks
         where relation_name = '{{ relation.schema }}.{{ relation.identifier }}')
    {%- endset -%}
    {%- set written -%}
        xmin::text::bigint = {{ built }}
    {%- endset -%}
    {%- if keys is none -%}
        {{ return('(' ~ built ~ ' is null or ' ~ written ~ ')') }}
    {%- endif -%}
    {%- set condition -%}
        ({{ built }} is null or ({{ keys | join(', ') }}) in (
            select {{ keys | join(', ') }} from {{ relation }} where {{ written }}
        ))
    {%- endset -%}
    {{ return(condition) }}
{%- endmacro %}
