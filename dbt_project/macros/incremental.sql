{#-
    Incremental staging: a build reads only the bronze records its model's last build could not
    see.

    Watermark: every bronze record carries the id of the transaction that loaded it
    (`ingested_xid`, migration 019). Each build of a model that reads bronze records, in its own
    transaction (the pre-hook `record_bronze_watermark`, dbt_project.yml), the oldest transaction
    its snapshot could not see (`pg_snapshot_xmin`) in ops.bronze_watermarks. The next
    incremental build reads the records with `ingested_xid` at or above it: a load that was still
    running during the last build is read however long it ran, and a load committed before it is
    not read again, so the work of an incremental build is the new records only, not everything
    loaded in the last hour. The watermark is inlined as a number, so the planner estimates the
    new rows from the index (bronze.raw_records_increment_idx) instead of guessing a subquery.

    Re-reading a record is harmless: the models merge on their unique key (delete+insert), and the
    winner among equal keys is the highest record_id, the same as in a full refresh.

    Before a model has a watermark (built before migration 019) the lookback is the previous one:
    one hour before the newest ingested_at already in the model, which covers any collection
    task's transaction (they last seconds to minutes). `dbt build --full-refresh` (Dagster config
    `full_refresh: true`) rebuilds from all of bronze, which retention refuses once it purged
    bronze (macros/retention.sql): every model that reads bronze calls this macro.
-#}

{% macro bronze_increment(column='ingested_at') -%}
    {{- refuse_rebuild_after_purge() -}}
    {%- if is_incremental() %}
        {%- set watermark = bronze_watermark() %}
        {%- if watermark is not none %}
        and ingested_xid >= {{ watermark }}
        {%- else %}
        and {{ column }} > (
            select {{ dbt.dateadd(
                'hour',
                -1,
                "coalesce(max(ingested_at), cast('1900-01-01 00:00:00+00' as " ~ type_timestamptz() ~ "))"
            ) }}
            from {{ this }}
        )
        {%- endif %}
    {%- endif %}
{%- endmacro %}

{#- The transaction id this model's next incremental build reads bronze from: what its last
    build recorded, none before that (or while dbt only parses). -#}
{% macro bronze_watermark() -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set found = run_query(
        "select next_xid from ops.bronze_watermarks where relation_name = '"
        ~ this.schema ~ "." ~ this.identifier ~ "'"
    ) -%}
    {%- if found | length == 0 -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(found.columns[0].values()[0] | int) }}
{%- endmacro %}

{#- Pre-hook of every silver model (dbt_project.yml): for a model that reads bronze, record in
    the build's own transaction the oldest transaction this build cannot see. It runs before the
    model's statement, whose snapshot can only see as much or more, so nothing the build missed
    is below the mark; a failed build rolls the mark back with the model. -#}
{% macro record_bronze_watermark() -%}
    {#- reads bronze: names a bronze source, or calls bronze_increment itself (quarantine_records
        names its sources only while it runs, from the graph) -#}
    {%- if 'bronze' in (model.sources | map('first') | list)
        or 'macro.analisa.bronze_increment' in model.depends_on.macros %}
    insert into ops.bronze_watermarks (relation_name, next_xid, recorded_at)
    values (
        '{{ this.schema }}.{{ this.identifier }}',
        pg_snapshot_xmin(pg_current_snapshot())::text::bigint,
        now()
    )
    on conflict (relation_name) do update
        set next_xid = excluded.next_xid, recorded_at = excluded.recorded_at
    {%- endif %}
{%- endmacro %}

{#- post_caption_words' pre-hook (incremental builds only): remove the words of every caption
    that is no longer a post's current one in int_posts (edited, set to nothing, post gone). A
    table built before its rows carried the caption's hash is emptied: its words are split again
    (on_schema_change adds the column). -#}
{% macro remove_outdated_caption_words() -%}
    {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
    {%- if 'caption_hash' not in columns %}
    delete from {{ this }}
    {%- else %}
    delete from {{ this }} as outdated
    where not exists (
        select 1
        from {{ ref('int_posts') }} as posts
        where posts.platform = outdated.platform
            and posts.post_id = outdated.post_id
            and {{ dbt.hash('posts.caption') }} = outdated.caption_hash
    )
    {%- endif %}
{%- endmacro %}
