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

{#- run_query, once per model and build: the marks and fingerprints a model's SQL and its
    pre-hook both read (dbt compiles the model, then renders its pre-hook, and a model calls the
    macros reading them once per CTE) were read anew at every call, four to ten queries per model
    where one does, each about 20 ms of dbt's own work in a build of a hundred nodes. Kept per
    invocation in the flat graph, which every node of an invocation shares; a new invocation
    starts afresh (the warm dbt keeps its graph between commands). Only for what nothing the
    model does before its main statement changes: its own and its upstream models' marks, which
    its pre-hook writes after reading them, and the inputs of its fingerprint. -#}
{% macro query_once(sql) -%}
    {%- set store = graph.setdefault('analisa_query_once', {}) -%}
    {%- if store.get('invocation') != invocation_id -%}
        {%- do store.clear() -%}
        {%- do store.update({'invocation': invocation_id}) -%}
    {%- endif -%}
    {%- set results = store.setdefault(model.unique_id, {}) -%}
    {%- if sql not in results -%}
        {%- do results.update({sql: run_query(sql)}) -%}
    {%- endif -%}
    {{ return(results[sql]) }}
{%- endmacro %}

{#- The transaction id this model's next incremental build reads bronze from: what its last
    build recorded, none before that (or while dbt only parses). -#}
{% macro bronze_watermark() -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set found = query_once(
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

{#-
    Post-incremental silver (int_post_snapshots, int_posts, int_post_listing_gaps): models built
    from many captures of a post, or from every post of an account (deletions are judged on an
    account's complete listing rounds), cannot take "new rows" of their inputs: one new capture
    can change a post's row, one new listing round every post of the account. They rebuild some
    posts, and keep every other row.

    Which posts (the "post changes", ops.post_changes, migration 024): every build of a model
    they are built from logs the posts it changed (log_post_changes: a staging model the posts of
    the rows it wrote, int_post_snapshots the posts it rebuilt; a build that rewrote its model
    whole logs one row without a post), and a reader takes the changes logged since its last
    build (its mark in ops.post_change_marks: the snapshot its pre-hook took before reading the
    log, so a change still being written when it read is read by its next build). A post's captures
    depend on that post's records only: int_post_snapshots rebuilds the posts its staging models
    changed. int_posts and int_post_listing_gaps rebuild every post of the accounts with bronze
    records loaded from their mark (the point up to which they have seen bronze) up to the marks
    of the models they are built from now (the point up to which those hold every record: the
    oldest of their marks, upstream_mark_sql below; the marks of staging models they are not
    built from do not hold them back, as those may run after them), found on int_posts' index
    (platform, account_id), and the posts int_post_snapshots changed since they last read it
    (the posts int_posts does not hold yet among them). Looking the posts of those accounts up in
    the staging tables and int_post_snapshots, which have no index by account, read 1,500,000 to
    3,000,000 rows a model (0.5 to 0.9 s each, on every incremental build).

    The model rebuilds everything, as a table is built, on its first build, with `--full-refresh`,
    before it has marks (a table built before marks existed), and when a model it reads was
    rewritten whole since it last read it (a full refresh of the staging models alone rebuilds
    them on their next build). The bounds are numbers read when the model is compiled and when
    its pre-hook runs, in the same build: the pre-hook's delete and the model's select agree.
-#}

{#- (this model's mark, the oldest mark of the models it is built from), or none when this model
    has no mark. -#}
{% macro followed_bronze_span() -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set found = query_once(
        "select (select next_xid from ops.bronze_watermarks where relation_name = '"
        ~ this.schema ~ "." ~ this.identifier ~ "' and not reads_bronze),"
        ~ " (" ~ upstream_mark_sql() ~ ")"
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

{#- The relation of a model of this project by name, whether or not the current model refs it. -#}
{% macro model_relation(name) -%}
    {%- if not execute -%}  {#- parsing: the graph is not there yet #}
        {{ return(api.Relation.create(identifier=name)) }}
    {%- endif -%}
    {%- set node = graph.nodes['model.analisa.' ~ name] -%}
    {{ return(api.Relation.create(
        database=node.database, schema=node.schema, identifier=node.alias or node.name
    )) }}
{%- endmacro %}

{% macro relation_key(relation) -%}
    {{ return(relation.schema ~ '.' ~ relation.identifier) }}
{%- endmacro %}

{#- {producer: [(snapshot, its xmin), ...]}: the changes of each model in `producers` this build
    reads are those the snapshots do not see: its own last build's and, for a `directory` model,
    that model's (the posts it does not hold yet are the ones logged since it read the log). None
    when the build rebuilds everything: a snapshot missing, or a producer rewritten whole since.
    Snapshot xids are compared as bigint (xid8 as text). -#}
{% macro post_change_marks(producers, directory=none) -%}
    {%- if not execute or this is none or not is_incremental() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set readers = [relation_key(this)] -%}
    {%- if directory not in (none, 'this') -%}
        {%- do readers.append(relation_key(model_relation(directory))) -%}
    {%- endif -%}
    {%- set marks = {} -%}
    {%- for name in producers -%}
        {%- do marks.update({relation_key(model_relation(name)): []}) -%}
    {%- endfor -%}
    {%- set found = query_once(
        "select producer, seen::text, pg_snapshot_xmin(seen)::text::bigint"
        ~ " from ops.post_change_marks"
        ~ " where producer in ('" ~ marks.keys() | join("', '") ~ "')"
        ~ " and consumer in ('" ~ readers | join("', '") ~ "')"
    ) -%}
    {%- for producer, seen, xmin in found.rows -%}
        {%- do marks[producer].append([seen, xmin | int]) -%}
    {%- endfor -%}
    {%- for snapshots in marks.values() if snapshots | length < readers | length -%}
        {{ return(none) }}
    {%- endfor -%}
    {%- set rewritten = query_once(
        "select count(*) from ops.post_changes where post_id is null and ("
        ~ post_change_window(marks) ~ ")"
    ) -%}
    {%- if rewritten.columns[0].values()[0] > 0 -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(marks) }}
{%- endmacro %}

{#- SQL condition on ops.post_changes: the changes of each producer one of its snapshots does not
    see (from the snapshot's xmin on, on the index (relation_name, built_xid)). -#}
{% macro post_change_window(marks) -%}
    {%- for producer, snapshots in marks.items() -%}
    (relation_name = '{{ producer }}' and (
        {%- for seen, xmin in snapshots %}
        (built_xid >= {{ xmin }}
            and not pg_visible_in_snapshot(built_xid::text::xid8, '{{ seen }}'::pg_snapshot))
        {{- ' or' if not loop.last }}
        {%- endfor %}
    )){{ ' or ' if not loop.last }}
    {%- endfor -%}
{%- endmacro %}

{#- An incremental build's transaction rebuilds a few posts or accounts, read by key from tables
    of millions of rows the server holds in memory: the planner is told a random read costs about
    what a sequential one does (as on SSD), not the default four times as much (a disk's seek),
    at which it read the staging tables whole to find 10,000 posts (int_post_snapshots: 1.4 s
    against 0.6 s). For this transaction only; a build of everything keeps the default. -#}
{% macro rebuild_few() -%}
    set local random_page_cost = 1.1;
{%- endmacro %}

{#- The marks this build reads the post changes from (post_change_marks) when it rebuilds some
    posts only; none when it rebuilds everything. A model with a `directory` also needs its bronze
    mark (the accounts come from it). -#}
{% macro post_increment(producers, directory=none) -%}
    {#- a dbt unit test has no table of its own: it checks the whole-build logic #}
    {%- if this is none or not is_incremental() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if directory is not none and followed_bronze_span() is none -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(post_change_marks(producers, directory)) }}
{%- endmacro %}

{#- The temporary table of the posts this build rebuilds: made by the pre-hook, read by the
    model's select in the same transaction (so the set is computed once). -#}
{% macro changed_posts_relation() -%}
    {{ this.identifier }}__changed_posts
{%- endmacro %}

{#- Pre-hook of a post-incremental model: list the posts the build rebuilds (the changes logged by
    `producers` since it read them, and with a `directory` model, 'this' or another one, the posts
    it holds of the accounts with new bronze records), remove their rows, take its marks: in the
    log of each producer, its snapshot (what it reads), and the oldest mark of the models it is
    built from as its bronze mark. A build that rebuilds everything removes every row first. -#}
{% macro follow_bronze(producers, directory=none) -%}
    {%- set marks = post_increment(producers, directory) %}
    {#- the snapshot first, the log read after it: what the snapshot sees, this build reads; what
        commits in between is read again by the next build (the marks read above are numbers) #}
    {%- for name in producers %}
    insert into ops.post_change_marks (consumer, producer, seen, recorded_at)
    values (
        '{{ relation_key(this) }}', '{{ relation_key(model_relation(name)) }}',
        pg_current_snapshot(), now()
    )
    on conflict (consumer, producer) do update
        set seen = excluded.seen, recorded_at = excluded.recorded_at;
    {%- endfor %}
    {%- if marks is not none %}
    {%- set listing = this if directory == 'this' else model_relation(directory) if directory else none %}
    {{ rebuild_few() }}
    {%- if listing is not none %}
    {#- the accounts first, counted: a subquery's estimate (thousands of accounts for a hundred)
        read every post instead of the index by account (0.54 s against 0.02 s) #}
    create temporary table {{ this.identifier }}__moved_accounts on commit drop as
    select * from {{ changed_accounts() }} as moved;
    analyze {{ this.identifier }}__moved_accounts;
    {%- endif %}
    create temporary table {{ changed_posts_relation() }} on commit drop as
    select platform, post_id from ops.post_changes
    where post_id is not null and ({{ post_change_window(marks) }})
    {%- if listing is not none %}
    union
    select platform, post_id from {{ listing }}
    where (platform, account_id) in (
        select platform, account_id from {{ this.identifier }}__moved_accounts
    )
    {%- else %}
    group by platform, post_id
    {%- endif %};
    {#- a model read rewritten whole since the marks were read (a full refresh running beside
        this build): the build fails, and the next one rebuilds everything #}
    do $rewritten$
    begin
        if exists (
            select 1 from ops.post_changes
            where post_id is null and ({{ post_change_window(marks) }})
        ) then
            raise exception '%: a model it is built from was rewritten whole meanwhile: build it again',
                '{{ this.identifier }}';
        end if;
    end
    $rewritten$;
    analyze {{ changed_posts_relation() }};
    delete from {{ this }}
    where (platform, post_id) in (select platform, post_id from {{ changed_posts_relation() }});
    {%- elif is_incremental() %}
    delete from {{ this }};
    {%- endif %}
    insert into ops.bronze_watermarks
        (relation_name, next_xid, reads_bronze, built_xid, recorded_at)
    select '{{ relation_key(this) }}', upstream.next_xid, false,
        pg_current_xact_id()::text::bigint, now()
    from ({{ upstream_mark_sql() }}) as upstream (next_xid)
    where upstream.next_xid is not null
    on conflict (relation_name) do update
        set next_xid = excluded.next_xid, reads_bronze = false, built_xid = excluded.built_xid,
            recorded_at = excluded.recorded_at, written_rows = null
{%- endmacro %}

{#- In a post-incremental model: `where` clause keeping the rebuilt posts only. -#}
{% macro only_changed_posts(platform_expression, post_id_column, producers, directory=none) -%}
    {%- if post_increment(producers, directory) is not none %}
    where ({{ platform_expression }}, {{ post_id_column }}) in (
        select platform, post_id from {{ changed_posts_relation() }}
    )
    {%- endif %}
{%- endmacro %}

{#- The name of the temporary relation dbt writes a delete+insert build's rows to
    (<model>__dbt_tmp<time>, dropped after the commit), as a plpgsql expression. -#}
{% macro dbt_temporary_relation_sql() -%}
    (
            select relname from pg_class
            where relnamespace = pg_my_temp_schema()
                and relname ~ '^{{ this.identifier }}__dbt_tmp[0-9]+$'
            order by oid desc
            limit 1
        )
{%- endmacro %}

{#- Post-hook of a model others follow post by post: log the posts this build changed (see
    above). A staging model's are the posts of the rows it wrote (dbt's temporary relation of a
    delete+insert build); a post-incremental model's, the posts it rebuilt; a build that wrote
    the model whole logs one row without a post. `platform`: the platform of a model without a
    platform column. -#}
{% macro log_post_changes(platform=none) -%}
    {%- if execute and this is not none %}
    {%- set platform_sql = "'" ~ platform ~ "'" if platform else 'platform' %}
    do $changes$
    declare
        temporary name := {{ dbt_temporary_relation_sql() }};
        rebuilt regclass := to_regclass('pg_temp.{{ changed_posts_relation() }}');
    begin
        -- what every reader has read (logged below the oldest transaction their snapshots could
        -- not see); removed here, by the one build writing this log, not by its readers, whose
        -- builds run side by side (int_posts and int_post_listing_gaps: the second waited for the
        -- first to commit, on the rows both removed)
        delete from ops.post_changes
        where relation_name = '{{ relation_key(this) }}'
            and built_xid < (
                select min(pg_snapshot_xmin(seen)::text::bigint)
                from ops.post_change_marks
                where producer = '{{ relation_key(this) }}'
            );
        {%- if is_incremental() %}
        if rebuilt is not null then
            insert into ops.post_changes (relation_name, built_xid, platform, post_id)
            select '{{ relation_key(this) }}', pg_current_xact_id()::text::bigint, platform, post_id
            from pg_temp.{{ changed_posts_relation() }};
            return;
        elsif temporary is not null and {{ 'true' if config.get('incremental_strategy') == 'delete+insert' else 'false' }} then
            execute 'insert into ops.post_changes (relation_name, built_xid, platform, post_id)'
                || ' select distinct ''{{ relation_key(this) }}'', pg_current_xact_id()::text::bigint, '
                || {{ "'" ~ platform_sql | replace("'", "''") ~ "'" }} || ', post_id from pg_temp.'
                || quote_ident(temporary);
            return;
        end if;
        {%- endif %}
        insert into ops.post_changes (relation_name, built_xid, platform, post_id)
        values ('{{ relation_key(this) }}', pg_current_xact_id()::text::bigint, null, null);
    end
    $changes$
    {%- endif %}
{%- endmacro %}

{#-
    Account-incremental gold (post_sponsored_markers, post_interests__instagram and __tiktok,
    fct_post_engagement,
    influencer_interests, fct_influencer_daily, dim_influencers,
    audience_segments, influencer_quality_measures, brand_influencer_fit; in silver,
    int_audience_demographics): every row belongs to one account and is computed from that
    account's rows only, so a build rebuilds the accounts whose data changed and keeps every
    other row.

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
        {%- set serving = query_once(enrichment_serving_version()) -%}
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
                {%- set content = query_once(
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
    {%- set found = query_once(
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
    {{ rebuild_few() }}
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
