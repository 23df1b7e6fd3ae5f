{#-
    Planner statistics. After a bulk load, PostgreSQL's statistics of bronze are stale until
    ANALYZE (autovacuum gets there later), and a model planned on them can go quadratic (seen: a
    nested loop over 300k insight records running 14 minutes instead of seconds). So every dbt
    run starts by refreshing bronze's statistics when they are stale, and every model analyses
    the table it just wrote, so the next model is planned on true numbers.
-#}

{% macro refresh_bronze_statistics() %}
    {{ return(adapter.dispatch('refresh_bronze_statistics', 'analisa')()) }}
{% endmacro %}

{% macro default__refresh_bronze_statistics() %}{% endmacro %}

{% macro postgres__refresh_bronze_statistics() %}
    {% if execute %}
        {# stale: never analysed, or more than a tenth of the rows changed since #}
        {% set stale = run_query(
            "select count(*) from pg_stat_user_tables where schemaname = 'bronze'"
            " and n_live_tup + n_mod_since_analyze > 0"
            " and (coalesce(last_analyze, last_autoanalyze) is null"
            "      or n_mod_since_analyze > 0.1 * greatest(n_live_tup, 1))"
        ) %}
        {% if stale.columns[0].values()[0] > 0 %}
            {% do run_query("analyze bronze.raw_records") %}
        {% endif %}
    {% endif %}
{% endmacro %}

{% macro analyze_relation(relation) %}
    {#- a view has no statistics of its own: the planner reads its tables' -#}
    {%- if model.config.materialized == 'view' -%}
        {{ return('') }}
    {%- endif -%}
    {{ return(adapter.dispatch('analyze_relation', 'analisa')(relation)) }}
{% endmacro %}

{% macro default__analyze_relation(relation) %}{% endmacro %}

{#- An incremental build that changed a tenth of the table or less leaves its statistics true
    enough (autovacuum's own threshold), and analysing a large table for a handful of new rows
    costs more than the build: then it is skipped. The counts are this transaction's own
    (pg_stat_xact_user_tables), the model's build being one transaction. -#}
{% macro postgres__analyze_relation(relation) %}
    {%- if model.config.materialized == 'incremental' and is_incremental() %}
    do $analyze$
    begin
        if (
            select coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)
            from pg_stat_xact_user_tables
            where relid = '{{ relation }}'::regclass
        ) > 0.1 * greatest(
            (select reltuples from pg_class where oid = '{{ relation }}'::regclass), 0
        ) then
            analyze {{ relation }};
        end if;
    end
    $analyze$
    {%- else %}
    analyze {{ relation }}
    {%- endif %}
{% endmacro %}

{#- Pre-hook: the rest of this model's transaction joins without merge joins (PostgreSQL). For
    a model that matches every caption word against a lookup of a few dozen rows made by an
    expression: the planner cannot tell how the words spread over the lookup, costs the hash join
    far above a sort (cost units: 24.8 million against 1.4 million), and sorts every word for a
    merge join instead (7.7 million words: 8.8 s for the select, 2.0 s hashed). Also for a model
    joining aggregates whose sizes the planner cannot estimate (brand_influencer_fit). -#}
{% macro hash_join_lookups() %}
    {{ return(adapter.dispatch('hash_join_lookups', 'analisa')()) }}
{% endmacro %}

{% macro default__hash_join_lookups() %}{% endmacro %}

{% macro postgres__hash_join_lookups() %}
    set local enable_mergejoin = off
{% endmacro %}

{#- Pre-hook: the rest of this model's transaction keeps no Memoize cache (PostgreSQL). For a
    model expanding each listing page into its items: every page body is a different document,
    yet the planner cached each page's items keyed on the whole body (stg_instagram__media, a
    full build: 15,000 pages, 15,000 misses, 512 MB of cache; reading the pages 3.1 s with it,
    1.5 s without). Not for the insights, whose bodies can repeat. -#}
{% macro no_memoize() %}
    {{ return(adapter.dispatch('no_memoize', 'analisa')()) }}
{% endmacro %}

{% macro default__no_memoize() %}{% endmacro %}

{% macro postgres__no_memoize() %}
    set local enable_memoize = off
{% endmacro %}
