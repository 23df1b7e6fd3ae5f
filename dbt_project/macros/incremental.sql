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

{#- Whether the current model reads bronze records: it names a bronze source, or calls
    bronze_increment itself (quarantine_records names its sources only while it runs, from the
    graph). -#}
{% macro reads_bronze_itself() -%}
    {{ return('bronze' in (model.sources | map('first') | list)
        or 'macro.analisa.bronze_increment' in model.depends_on.macros) }}
{%- endmacro %}

{#- Pre-hook of every silver model (dbt_project.yml): for a model that reads bronze, record in
    the build's own transaction the oldest transaction this build cannot see. It runs before the
    model's statement, whose snapshot can only see as much or more, so nothing the build missed
    is below the mark; a failed build rolls the mark back with the model. -#}
{% macro record_bronze_watermark() -%}
    {%- if reads_bronze_itself() %}
    insert into ops.bronze_watermarks (relation_name, next_xid, built_xid, recorded_at)
    values (
        '{{ this.schema }}.{{ this.identifier }}',
        pg_snapshot_xmin(pg_current_snapshot())::text::bigint,
        pg_current_xact_id()::text::bigint,
        now()
    )
    on conflict (relation_name) do update
        set next_xid = excluded.next_xid, built_xid = excluded.built_xid,
            recorded_at = excluded.recorded_at, written_rows = null
    {%- endif %}
{%- endmacro %}

{#- post_caption_words' pre-hook (incremental builds only): remove the words of every caption
    that is no longer a post's current one in int_posts (edited, set to nothing, post gone), among
    the posts of the accounts this build rebuilds (all posts when it rebuilds everything). A
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
    {%- if accounts_increment() %}
        {#- a caption changes only with its account's records (post_caption_words.sql) #}
        and (outdated.platform, outdated.post_id) in (
            select platform, post_id
            from {{ ref('int_posts') }}
            where true
            {{ only_changed_accounts('platform', 'account_id') }}
        )
    {%- endif %}
    {%- endif %}
{%- endmacro %}

{#-
    Account-incremental models (int_post_snapshots, int_post_listing_gaps, int_posts): models
    built from many captures of a post, or from every post of an account (deletions are judged
    on an account's complete listing rounds), cannot take "new rows" of their inputs: one new
    capture can change a post's row, one new listing round every post of the account. They
    rebuild the posts of the accounts that have new bronze records, and keep every other row.

    Which accounts: those with bronze records loaded from this model's mark (the point up to
    which it has seen bronze through the staging models) up to the staging models' marks now
    (the point up to which staging holds every record: below the oldest mark of the models that
    read bronze, macros above). Records past that are in staging or not; either way the next
    build takes their accounts. Both bounds are numbers read once when the model is compiled, so
    the delete of the pre-hook and the model's select agree on the set.

    Before the first build with a mark (a table built before) or with `--full-refresh`, the model
    is built from everything, as a table is.
-#}

{#- (this model's mark, the staging models' oldest mark), or none when this model has no mark. -#}
{% macro followed_bronze_span() -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set found = run_query(
        "select (select next_xid from ops.bronze_watermarks where relation_name = '"
        ~ this.schema ~ "." ~ this.identifier ~ "' and not reads_bronze),"
        ~ " (select min(next_xid) from ops.bronze_watermarks where reads_bronze)"
    ) -%}
    {%- set mark, upto = found.columns[0].values()[0], found.columns[1].values()[0] -%}
    {%- if mark is none or upto is none -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return([mark | int, upto | int]) }}
{%- endmacro %}

{#- A subquery of (platform, account_id): the accounts this build rebuilds. -#}
{% macro changed_accounts() -%}
    {%- set span = followed_bronze_span() -%}
    (
        {#- the records table itself, not a dbt source: the model's lineage is its staging
            models, this only says which accounts moved #}
        select distinct platform, account_id
        from bronze.raw_records
        {%- if span is not none %}
        where ingested_xid >= {{ span[0] }} and ingested_xid < {{ span[1] }}
        {%- endif %}
    )
{%- endmacro %}

{#- Whether this build rebuilds some accounts only (else: everything). -#}
{% macro account_increment() -%}
    {#- a dbt unit test has no table of its own: it checks the whole-build logic #}
    {%- if this is none -%}
        {{ return(false) }}
    {%- endif -%}
    {{ return(is_incremental() and followed_bronze_span() is not none) }}
{%- endmacro %}

{#- The temporary table of the posts this build rebuilds: made by the pre-hook, read by the
    model's select in the same transaction (so the set is computed once). -#}
{% macro changed_posts_relation() -%}
    {{ this.identifier }}__changed_posts
{%- endmacro %}

{#- The posts of the changed accounts in `inputs`: [platform, model] pairs, the platform none when
    the model has a platform column. Each model must be one the calling model refs. -#}
{% macro changed_posts_from(inputs) -%}
    {%- for platform, name in inputs %}
    select
        {{ "'" ~ platform ~ "'" if platform else 'platform' }} as platform,
        post_id
    from {{ ref(name) }}
    where ({{ "'" ~ platform ~ "'" if platform else 'platform' }}, account_id)
        in {{ changed_accounts() }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{%- endmacro %}

{#- Pre-hook of an account-incremental model: list the posts the build rebuilds (the posts of the
    changed accounts in `inputs`, see changed_posts_from), remove their rows, then take the
    staging models' oldest mark as this model's. A full refresh or a first build only takes the
    mark; a build of a table that has no mark yet (built before marks existed) rebuilds
    everything. A full refresh of the staging models alone does not rebuild these: refresh them
    together (the pipeline's full refresh does). -#}
{% macro follow_bronze(inputs) -%}
    {%- if account_increment() %}
    create temporary table {{ changed_posts_relation() }} on commit drop as
    select distinct platform, post_id from ({{ changed_posts_from(inputs) }}) as changed;
    analyze {{ changed_posts_relation() }};
    delete from {{ this }}
    where (platform, post_id) in (select platform, post_id from {{ changed_posts_relation() }});
    {%- elif is_incremental() %}
    delete from {{ this }};
    {%- endif %}
    insert into ops.bronze_watermarks
        (relation_name, next_xid, reads_bronze, built_xid, recorded_at)
    select '{{ this.schema }}.{{ this.identifier }}', min(next_xid), false,
        pg_current_xact_id()::text::bigint, now()
    from ops.bronze_watermarks
    where reads_bronze
    having count(*) > 0
    on conflict (relation_name) do update
        set next_xid = excluded.next_xid, reads_bronze = false, built_xid = excluded.built_xid,
            recorded_at = excluded.recorded_at, written_rows = null
{%- endmacro %}

{#- In an account-incremental model: `where` clause keeping the rebuilt posts only. -#}
{% macro only_changed_posts(platform_expression, post_id_column) -%}
    {%- if account_increment() %}
    where ({{ platform_expression }}, {{ post_id_column }}) in (
        select platform, post_id from {{ changed_posts_relation() }}
    )
    {%- endif %}
{%- endmacro %}

{#-
    Account-incremental gold (post_caption_words, post_sponsored_markers, post_interests,
    fct_post_engagement, influencer_interests, fct_influencer_daily, dim_influencers,
    audience_segments, influencer_quality_measures, brand_influencer_fit): every row
    belongs to one account and is computed from that account's rows only, so a build rebuilds the
    accounts whose data changed and keeps every other row.

    Which accounts: those with bronze records, or with enrichment scores (`scores`: the silver
    tables the model reads), written by transactions from this model's mark up to the oldest mark
    of the models it is built from, at any distance (`upstream_mark`). Every one of those is
    finished (below a snapshot's xmin), and every model upstream holds all of them. The bounds are
    read once when the model is compiled, so the pre-hook's delete and the model's select agree.

    What else the rows are computed from (the model's code, its seeds, the enrichment's serving
    version, the content of the small tables in its `fingerprint_rows` config) is a fingerprint
    kept with the mark: when it differs, or before the first mark, or
    when a model upstream has none, the build rebuilds everything. `--full-refresh` rebuilds the
    table.
-#}

{#- Every model and seed the current model is built from, at any distance: (model ids, seed ids). -#}
{% macro upstream_nodes() -%}
    {%- set models, seeds = [], [] -%}
    {%- set pending = model.depends_on.nodes | list -%}
    {#- breadth first; a loop over a list that grows while it runs -#}
    {%- for unique_id in pending -%}
        {%- if unique_id.startswith('seed.') and unique_id not in seeds -%}
            {%- do seeds.append(unique_id) -%}
        {%- elif unique_id.startswith('model.') and unique_id not in models -%}
            {%- do models.append(unique_id) -%}
            {%- do pending.extend(graph.nodes[unique_id].depends_on.nodes) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return([models, seeds]) }}
{%- endmacro %}

{#- The oldest mark of the models the current one is built from (none: none has one). A model
    without a mark of its own (a view, or a table built whole every time) holds what its own
    inputs held when it was built: tables record that (`record_upstream_mark`). -#}
{% macro upstream_mark_sql() -%}
    {%- set models = upstream_nodes()[0] -%}
    select min(next_xid) from ops.bronze_watermarks
    where relation_name in (
        {%- for unique_id in models %}
        {%- set node = graph.nodes[unique_id] %}
        '{{ node.schema }}.{{ node.alias or node.name }}'{{ "," if not loop.last }}
        {%- endfor %}
        {%- if models | length == 0 %}null{% endif %}
    )
{%- endmacro %}

{#- What the model's rows are computed from besides its accounts' data: its code and the code of
    every model and seed it is built from (a new release rebuilds it whole), for a model
    reading the enrichment's scores the serving version, and the whole content of the small
    tables every account's rows are computed against, named in the model's `fingerprint_rows`
    config (brand_influencer_fit: the brands and their targets; a brand added, changed or removed
    rebuilds every pair). -#}
{% macro inputs_fingerprint(scores) -%}
    {%- set parts = [model.checksum.checksum] -%}
    {%- set models, seeds = upstream_nodes() -%}
    {%- for unique_id in (models + seeds) | sort %}
        {%- do parts.append(graph.nodes[unique_id].checksum.checksum) -%}
    {%- endfor %}
    {%- if scores | length > 0 and execute %}
        {%- set serving = run_query(enrichment_serving_version()) -%}
        {%- for row in serving.rows %}
            {%- do parts.append(row[0] ~ '/' ~ row[1]) -%}
        {%- endfor %}
    {%- endif %}
    {%- if execute %}
        {%- for name in config.get('fingerprint_rows', []) %}
            {#- not built yet (a first build, or `dbt docs generate` on an empty database):
                nothing to read, and no mark this fingerprint could match -#}
            {%- if load_relation(ref(name)) is none %}
                {%- do parts.append(name ~ '=missing') -%}
            {%- else %}
                {%- set content = run_query(
                    "select count(*) || '/' || coalesce(md5(string_agg(rows::text, E'\\n'"
                    ~ " order by rows::text)), '') from " ~ ref(name) ~ " as rows"
                ) -%}
                {%- do parts.append(name ~ '=' ~ content.columns[0].values()[0]) -%}
            {%- endif %}
        {%- endfor %}
    {%- endif %}
    {{ return(local_md5(parts | join('|'))) }}
{%- endmacro %}

{#- {mark, upto, fingerprint}: this model's mark (none: rebuild everything), the mark it takes. -#}
{% macro account_follow_state(scores=[]) -%}
    {%- if not execute or this is none -%}
        {{ return({'mark': none, 'upto': none, 'fingerprint': none}) }}
    {%- endif -%}
    {%- set fingerprint = inputs_fingerprint(scores) -%}
    {%- set found = run_query(
        "select (select next_xid from ops.bronze_watermarks where relation_name = '"
        ~ this.schema ~ "." ~ this.identifier ~ "' and not reads_bronze"
        ~ " and inputs_fingerprint = '" ~ fingerprint ~ "'), (" ~ upstream_mark_sql() ~ ")"
    ) -%}
    {%- set mark, upto = found.columns[0].values()[0], found.columns[1].values()[0] -%}
    {{ return({
        'mark': (mark | int) if mark is not none and upto is not none else none,
        'upto': (upto | int) if upto is not none else none,
        'fingerprint': fingerprint,
    }) }}
{%- endmacro %}

{#- Whether this build rebuilds some accounts only (else: everything). -#}
{% macro accounts_increment(scores=[]) -%}
    {#- a dbt unit test has no table of its own: it checks the whole-build logic #}
    {{ return(account_follow_state(scores).mark is not none and is_incremental()) }}
{%- endmacro %}

{% macro changed_accounts_relation() -%}
    {{ this.identifier }}__changed_accounts
{%- endmacro %}

{#- Pre-hook of an account-incremental gold model: list the accounts this build rebuilds, remove
    their rows (everything when the whole model is rebuilt), and record the mark it takes. -#}
{% macro follow_accounts(scores=[]) -%}
    {%- set state = account_follow_state(scores) -%}
    {%- if is_incremental() and state.mark is not none %}
    create temporary table {{ changed_accounts_relation() }} on commit drop as
    select platform, account_id
    from bronze.raw_records
    where ingested_xid >= {{ state.mark }} and ingested_xid < {{ state.upto }}
    {%- for table in scores %}
    union
    select platform, account_id
    from {{ source('silver', table) }}
    where scored_xid >= {{ state.mark }} and scored_xid < {{ state.upto }}
    {%- endfor %};
    analyze {{ changed_accounts_relation() }};
    {%- if 'account_id' in (adapter.get_columns_in_relation(this) | map(attribute='name') | list) %}
    delete from {{ this }}
    where (platform, account_id) in (
        select platform, account_id from {{ changed_accounts_relation() }}
    );
    {%- endif %}
    {%- elif is_incremental() %}
    delete from {{ this }};
    {%- endif %}
    {%- if state.upto is not none %}
    insert into ops.bronze_watermarks
        (relation_name, next_xid, reads_bronze, inputs_fingerprint, built_xid, recorded_at)
    values (
        '{{ this.schema }}.{{ this.identifier }}', {{ state.upto }}, false,
        '{{ state.fingerprint }}', pg_current_xact_id()::text::bigint, now()
    )
    on conflict (relation_name) do update
        set next_xid = excluded.next_xid, reads_bronze = false,
            inputs_fingerprint = excluded.inputs_fingerprint, built_xid = excluded.built_xid,
            recorded_at = excluded.recorded_at, written_rows = null
    {%- endif %}
{%- endmacro %}

{#- In an account-incremental gold model: `and` clause keeping the rebuilt accounts' rows. -#}
{% macro only_changed_accounts(platform_expression, account_expression, scores=[]) -%}
    {%- if accounts_increment(scores) %}
    and ({{ platform_expression }}, {{ account_expression }}) in (
        select platform, account_id from {{ changed_accounts_relation() }}
    )
    {%- endif %}
{%- endmacro %}

{#- Pre-hook of every model built whole (a table): record what its inputs held, so an
    account-incremental model built from it knows how far it is current. -#}
{% macro record_upstream_mark() -%}
    {%- if config.get('materialized') == 'table' and this is not none and not reads_bronze_itself() %}
    insert into ops.bronze_watermarks
        (relation_name, next_xid, reads_bronze, built_xid, recorded_at)
    select '{{ this.schema }}.{{ this.identifier }}', upstream.next_xid, false,
        pg_current_xact_id()::text::bigint, now()
    from ({{ upstream_mark_sql() }}) as upstream (next_xid)
    where upstream.next_xid is not null
    on conflict (relation_name) do update
        set next_xid = excluded.next_xid, reads_bronze = false, built_xid = excluded.built_xid,
            recorded_at = excluded.recorded_at, written_rows = null
    {%- endif %}
{%- endmacro %}

{#- Post-hook of every model: the database enforces the model's keys. A key is the unique_key
    of a delete+insert model and the columns of each unique_combination test of the model; each
    gets a unique index (NULLS NOT DISTINCT where the server has it, PostgreSQL 15+), so a
    duplicate is refused when it is written, the build fails with the key it repeats, and the
    table keeps what it held. The uniqueness tests then have nothing to read (get_where_subquery,
    macros/test_scope.sql): grouping every row of a large table by its key was the costliest test
    of a full build (int_post_snapshots: 3,000,000 captures, 11 s, on the path to every later
    model). The index also serves the lookups by key: a delete+insert build's delete, the rows
    sharing a written row's key, and record_written_rows finding the rows a build wrote.
    Created when the table has none (a table built before keys were enforced gets it on its next
    build, replacing a plain index on the same columns); never named (a full refresh renames the
    old table aside until the commit, with its index). A table holding duplicates fails its build
    here, with them named by the database. -#}
{% macro model_unique_keys() -%}
    {%- set keys = [] -%}
    {%- if config.get('materialized') == 'incremental'
        and config.get('incremental_strategy') == 'delete+insert' and configured_unique_key() -%}
        {%- do keys.append(configured_unique_key()) -%}
    {%- endif -%}
    {%- if execute -%}
        {%- for node in graph.nodes.values() -%}
            {%- if node.resource_type == 'test' and node.attached_node == model.unique_id
                and node.test_metadata is not none and node.test_metadata.name == 'unique_combination'
                and not node.config.get('where') -%}
                {%- set columns = test_key(node.test_metadata) -%}
                {%- if columns | sort not in keys | map('sort') | list -%}
                    {%- do keys.append(columns) -%}
                {%- endif -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {#- only plain column names: a key written as an expression keeps its test -#}
    {%- set plain = [] -%}
    {%- for key in keys -%}
        {%- set names = [] -%}
        {%- for column in key if modules.re.fullmatch('[a-z_][a-z0-9_]*', column) -%}
            {%- do names.append(column) -%}
        {%- endfor -%}
        {%- if names | length == key | length -%}
            {%- do plain.append(key) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(plain) }}
{%- endmacro %}

{#- The current model's unique_key config as a list of columns ([] when it has none). -#}
{% macro configured_unique_key() -%}
    {%- set key = config.get('unique_key') or [] -%}
    {{ return([key] if key is string else key | list) }}
{%- endmacro %}

{#- SQL: the indexes of `relation` on exactly the columns of `key` (in any order), as rows of
    pg_index `i`; `enforcing` keeps those that make the key unique for every row. -#}
{% macro key_index_sql(relation_sql, key, enforcing=true) -%}
    select i.indexrelid::regclass::text as index_name, i.indisunique
    from pg_index i
    where i.indrelid = {{ relation_sql }}
        and i.indpred is null and i.indexprs is null
        and array(
            select a.attname::text from pg_attribute a
            where a.attrelid = i.indrelid and a.attnum = any(i.indkey::int2[])
            order by 1
        ) = array[{% for column in key | sort %}'{{ column }}'{{ ', ' if not loop.last }}{% endfor %}]::text[]
        and cardinality(i.indkey::int2[]) = {{ key | length }}
    {%- if enforcing %}
        and i.indisunique and i.indisvalid
        -- a null repeated in a key is a duplicate too: the index treats nulls as equal, or the
        -- key's columns cannot hold one (indnullsnotdistinct exists from PostgreSQL 15 on)
        and (
            coalesce((to_jsonb(i) ->> 'indnullsnotdistinct')::boolean, false)
            or not exists (
                select 1 from pg_attribute a
                where a.attrelid = i.indrelid and a.attnum = any(i.indkey::int2[])
                    and not a.attnotnull
            )
        )
    {%- endif %}
{%- endmacro %}

{% macro unique_key_index() %}
    {{ return(adapter.dispatch('unique_key_index', 'analisa')()) }}
{% endmacro %}

{% macro default__unique_key_index() %}{% endmacro %}

{% macro postgres__unique_key_index() %}
    {%- for key in model_unique_keys() %}
    do $key_index$
    declare
        plain text;
    begin
        if not exists ({{ key_index_sql("'" ~ this ~ "'::regclass", key) }}) then
            for plain in
                select index_name from ({{ key_index_sql("'" ~ this ~ "'::regclass", key, enforcing=false) }}) as same
            loop
                execute 'drop index ' || plain;
            end loop;
            execute 'create unique index on {{ this }} ({{ key | join(', ') }})'
                || case when current_setting('server_version_num')::int >= 150000
                    then ' nulls not distinct' else '' end;
        end if;
    end
    $key_index$;
    {%- endfor %}
{% endmacro %}
