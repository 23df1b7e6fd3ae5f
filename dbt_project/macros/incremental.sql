{#-
    Incremental staging: a build reads only the bronze records loaded since the last build.

    The watermark is bronze's `ingested_at` (the loading transaction's start time), carried by
    every row of an incremental model. Lookback: one hour before the newest ingested_at already
    in the model, because a loading transaction that started earlier but committed after the
    last build has older ingested_at values than rows the build already saw; an hour covers any
    collection task's transaction (they last seconds to minutes). Re-reading those records is
    harmless: the models merge on their unique key (delete+insert), and the winner among equal
    keys is the highest record_id, the same as in a full refresh. `dbt build --full-refresh`
    (Dagster config `full_refresh: true`) rebuilds from all of bronze, which retention refuses
    once it purged bronze (macros/retention.sql): every model that reads bronze calls this macro.
-#}

{% macro bronze_increment(column='ingested_at') -%}
    {{- refuse_rebuild_after_purge() -}}
    {%- if is_incremental() %}
        and {{ column }} > (
            select {{ dbt.dateadd(
                'hour',
                -1,
                "coalesce(max(ingested_at), cast('1900-01-01 00:00:00+00' as " ~ type_timestamptz() ~ "))"
            ) }}
            from {{ this }}
        )
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
