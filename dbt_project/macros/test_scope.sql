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
    with no recorded build.

    Finding the written rows by their transaction means reading the whole table, once per test.
    An incremental build that wrote few rows records where they stand (`written_rows`, their
    ctids, the post-hook `record_written_rows`), and its tests fetch them by position (a TID scan)
    and keep those the build's transaction wrote: the same rows, without reading the table.

    A uniqueness test of a key the database enforces (a unique index on exactly its columns,
    made by the post-hook unique_key_index, macros/incremental.sql) reads nothing: no row can
    break it.

    `dbt build --full-refresh` checks everything, and so does
    `dbt test --vars '{check_all_rows: true}'` whatever the last build was.

    dbt wraps the tested relation of every generic test in get_where_subquery (the test's `where`
    config is kept, and applied too).
-#}
{% macro get_where_subquery(relation) -%}
    {%- if execute and key_enforced(relation) -%}
        {{ return('(select * from ' ~ relation ~ ' where false) dbt_subquery') }}
    {%- endif -%}
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
    {%- set keys = test_key(model.test_metadata, groups=true) -%}
    {#- xmin is the low 32 bits of the writing transaction's id #}
    {%- set built -%}
        (select built_xid % 4294967296 from ops.bronze_watermarks
         where relation_name = '{{ relation.schema }}.{{ relation.identifier }}')
    {%- endset -%}
    {#- no build recorded: every row is checked #}
    {%- set unbuilt = built ~ ' is null or ' -%}
    {%- set written -%}
        xmin::text::bigint = {{ built }}
    {%- endset -%}
    {%- if execute and written_rows_recorded(relation) -%}
        {#- the positions are recorded with the build's mark, which is then never null: the
            condition stays a plain conjunction, which the planner answers with a TID scan #}
        {%- set unbuilt = '' -%}
        {%- set written -%}
            ctid = any((select written_rows from ops.bronze_watermarks
                        where relation_name = '{{ relation.schema }}.{{ relation.identifier }}')::tid[])
            and xmin::text::bigint = {{ built }}
        {%- endset -%}
    {%- endif -%}
    {%- if keys is none -%}
        {{ return('(' ~ unbuilt ~ written ~ ')') }}
    {%- endif -%}
    {%- set condition -%}
        ({{ unbuilt }}({{ keys | join(', ') }}) in (
            select {{ keys | join(', ') }} from {{ relation }} where {{ written }}
        ))
    {%- endset -%}
    {{ return(condition) }}
{%- endmacro %}

{#- Whether the relation's last build recorded where the rows it wrote stand. -#}
{% macro written_rows_recorded(relation) -%}
    {%- set found = run_query(
        "select written_rows is not null from ops.bronze_watermarks where relation_name = '"
        ~ relation.schema ~ "." ~ relation.identifier ~ "'"
    ) -%}
    {{ return(found | length > 0 and found.columns[0].values()[0]) }}
{%- endmacro %}

{#- Post-hook of every model: after an incremental build that wrote at most `limit` rows, record
    their ctids with the build's mark (the statement runs in the build's transaction, so the
    rows are the ones whose xmin is that transaction). The rows are found through the model's
    own change set where it has one (the accounts or posts it rebuilt, temporary tables of the
    pre-hook, looked up on the model's index; for a delete+insert model the keys of dbt's
    temporary relation, looked up on the index of its unique key) and else by reading the table
    once, instead of once per test. A build that wrote more rows, or wrote the model whole,
    records nothing: its tests read the table. -#}
{% macro record_written_rows(limit=250000) -%}
    {%- if config.get('materialized') == 'incremental' and is_incremental() and this is not none %}
    {%- set mine = "xmin::text::bigint = pg_current_xact_id()::text::bigint % 4294967296" %}
    {%- set name = this.schema ~ '.' ~ this.identifier %}
    {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | list %}
    {%- set keys = configured_unique_key() %}
    do $written$
    declare
        written bigint;
        positions tid[];
        -- the rows a delete+insert build wrote are its temporary relation's (dbt names it
        -- <model>__dbt_tmp<time> and drops it after the commit)
        temporary name := {{ dbt_temporary_relation_sql() }};
    begin
        select coalesce(sum(n_tup_ins + n_tup_upd), 0) into written
        from pg_stat_xact_user_tables
        where relid = '{{ this }}'::regclass;
        if written > {{ limit }} then
            return;
        end if;
        if written = 0 then
            positions := '{}';
        elsif {{ 'account_id' in columns }} and to_regclass(
            'pg_temp.{{ this.identifier }}__changed_accounts'
        ) is not null then
            select array_agg(ctid) into positions from {{ this }}
            where (platform, account_id) in (
                select platform, account_id from pg_temp.{{ this.identifier }}__changed_accounts
            ) and {{ mine }};
        elsif {{ 'post_id' in columns }} and to_regclass(
            'pg_temp.{{ this.identifier }}__changed_posts'
        ) is not null then
            select array_agg(ctid) into positions from {{ this }}
            where (platform, post_id) in (
                select platform, post_id from pg_temp.{{ this.identifier }}__changed_posts
            ) and {{ mine }};
        elsif {{ keys | length > 0 }} and temporary is not null then
            execute 'select array_agg(t.ctid) from {{ this }} t'
                || ' where ({{ keys | join(', ') }}) in (select {{ keys | join(', ') }} from pg_temp.'
                || quote_ident(temporary) || ') and t.{{ mine }}'
            into positions;
        else
            select array_agg(ctid) into positions from {{ this }} where {{ mine }};
        end if;
        update ops.bronze_watermarks
        set written_rows = coalesce(positions, '{}')
        where relation_name = '{{ name }}'
            and built_xid = pg_current_xact_id()::text::bigint;
    end
    $written$
    {%- endif %}
{%- endmacro %}

{#- Whether the tested key of a uniqueness test is one the database enforces on `relation`. -#}
{% macro key_enforced(relation) -%}
    {%- if var('check_all_rows', false) or target.type != 'postgres' or model.resource_type != 'test'
        or model.test_metadata is none or relation.schema is none or config.get('where') -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set key = test_key(model.test_metadata) -%}
    {%- if key is none -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set table -%}
        to_regclass('{{ adapter.quote(relation.schema) }}.{{ adapter.quote(relation.identifier) }}')
    {%- endset -%}
    {%- set found = run_query('select count(*) from (' ~ key_index_sql(table, key) ~ ') as enforcing') -%}
    {{ return(found.columns[0].values()[0] > 0) }}
{%- endmacro %}

{#- The columns a test holds unique: a unique test's column, a unique_combination test's columns,
    and with `groups` a sums_to test's groups (each group is checked whole); none for any other
    test. -#}
{% macro test_key(metadata, groups=false) -%}
    {%- set name, kwargs = metadata.name, metadata.kwargs -%}
    {%- if name == 'unique' -%}
        {{ return([kwargs.column_name]) }}
    {%- elif name == 'unique_combination' -%}
        {{ return(kwargs.columns | list) }}
    {%- elif name == 'sums_to' and groups -%}
        {{ return(kwargs.group_by | list) }}
    {%- endif -%}
    {{ return(none) }}
{%- endmacro %}
