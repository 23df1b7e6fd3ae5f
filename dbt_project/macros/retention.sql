{#-
    Retention (orchestration/defs/retention): raw bronze past its period is purged once silver
    holds what was derived from it. Two rules make that safe, both here:

    1. Every silver build records when it started (ops.silver_builds, migration 011). Every model
       that reads bronze is incremental and keeps what it read; a bronze row ingested more than
       the lookback (macros/incremental.sql) before the start of a build the silver gate accepted
       has been read by that build or an earlier one.
    2. After a purge, rebuilding such a model from bronze (`--full-refresh`, or a dropped table)
       would silently drop every row derived from the purged records: it is refused, unless
       `--vars '{retention_allow_rebuild: true}'` says the loss is intended.
-#}

{% macro record_silver_build() %}
    {% if execute and flags.WHICH in ('run', 'build') %}
        {% set silver = [] %}
        {% for unique_id in selected_resources %}
            {% set node = graph.nodes.get(unique_id) %}
            {% if node and node.resource_type == 'model' and 'silver' in node.tags %}
                {% do silver.append(unique_id) %}
            {% endif %}
        {% endfor %}
        {% if silver %}
            do $$ begin
                if to_regclass('ops.silver_builds') is not null then
                    insert into ops.silver_builds (invocation_id) values ('{{ invocation_id }}')
                    on conflict do nothing;
                end if;
            end $$
        {% endif %}
    {% endif %}
{% endmacro %}

{% macro refuse_rebuild_after_purge() %}
    {% if execute and not is_incremental() and not var('retention_allow_rebuild', false) %}
        {% set exists = run_query("select to_regclass('ops.retention_purges') is not null") %}
        {% if exists.columns[0].values()[0] %}
            {% set purged = run_query(
                "select count(*), coalesce(sum(rows_deleted), 0), max(cutoff)"
                " from ops.retention_purges"
                " where table_name = 'bronze.raw_records' and not dry_run and cutoff is not null"
                " and (rows_deleted > 0 or finished_at is null)"
            ) %}
            {% set row = purged.rows[0] %}
            {% if row[0] > 0 %}
                {% do exceptions.raise_compiler_error(
                    "Refusing to rebuild " ~ this ~ " from bronze: retention purged "
                    ~ row[1] ~ " bronze records ingested before " ~ row[2]
                    ~ " (ops.retention_purges), and a rebuild (--full-refresh, or a dropped table)"
                    ~ " would silently lose every row derived from them. Build incrementally"
                    ~ " instead; to accept the loss, pass --vars '{retention_allow_rebuild: true}'."
                ) %}
            {% endif %}
        {% endif %}
    {% endif %}
{% endmacro %}
