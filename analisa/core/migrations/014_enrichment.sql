-- The AI enrichment's own tables (package enrichment/, Dagster assets in
-- orchestration/defs/enrichment/). It reads silver captions and writes only here, every row keyed
-- by the model and its version, so a new version is written beside the one serving. gold reads
-- these tables as dbt sources (models/gold/_enrichment__sources.yml): they exist from this
-- migration on, so gold builds (with no model rows) when the enrichment is off or not installed.
-- Every table carries account_id and post_id (or account_id) so erasure finds them generically.
create schema if not exists silver;

-- One caption embedding per post, model and version; caption_hash = md5 of the caption text it
-- was computed from, so an edited caption is embedded again.
create table if not exists silver.caption_embeddings (
    platform text not null,
    post_id text not null,
    account_id text not null,
    model text not null,
    model_version text not null,
    caption_hash text not null,
    embedding real[] not null,
    embedded_at timestamptz not null default now(),
    primary key (platform, post_id, model, model_version)
);
create index if not exists caption_embeddings_account
    on silver.caption_embeddings (platform, account_id);

-- Interests of the taxonomy scored against the caption (model_version names the embedding
-- model's version and the label descriptions' version): only those at or above the threshold.
create table if not exists silver.caption_interest_scores (
    platform text not null,
    post_id text not null,
    account_id text not null,
    model text not null,
    model_version text not null,
    caption_hash text not null,
    interest text not null,
    score numeric(5, 4) not null check (score > 0 and score <= 1),
    interest_rank smallint not null check (interest_rank >= 1),
    scored_at timestamptz not null default now(),
    primary key (platform, post_id, model, model_version, interest)
);
create index if not exists caption_interest_scores_account
    on silver.caption_interest_scores (platform, account_id);

-- One sentiment per scored caption.
create table if not exists silver.caption_sentiment (
    platform text not null,
    post_id text not null,
    account_id text not null,
    model text not null,
    model_version text not null,
    caption_hash text not null,
    sentiment text not null check (sentiment in ('positive', 'neutral', 'negative')),
    score numeric(5, 4) not null check (score > 0 and score <= 1),
    scored_at timestamptz not null default now(),
    primary key (platform, post_id, model, model_version)
);
create index if not exists caption_sentiment_account
    on silver.caption_sentiment (platform, account_id);

-- Each classifier version: which embedding version it reads, how far it got, and when it first
-- covered every caption. gold serves the newest version completed at least once, else the newest.
create table if not exists silver.enrichment_versions (
    model text not null,
    model_version text not null,
    embedding_version text not null,
    started_at timestamptz not null default now(),
    completed_at timestamptz,
    captions_total bigint not null default 0,
    captions_done bigint not null default 0,
    updated_at timestamptz not null default now(),
    primary key (model, model_version)
);

-- An influencer's content vector: the normalised mean of its recent captions' embeddings.
create table if not exists silver.influencer_content_vectors (
    platform text not null,
    account_id text not null,
    model text not null,
    model_version text not null,
    posts_used integer not null check (posts_used > 0),
    content_vector real[] not null,
    computed_at timestamptz not null default now(),
    primary key (platform, account_id, model, model_version)
);

-- pgvector where the server has it: the same vectors in a `vector` column with an HNSW index
-- for cosine distance. Without the extension (or the right to create it) lookalike search is an
-- exact scan over content_vector, with the same answers.
do $$
begin
    if exists (select 1 from pg_available_extensions where name = 'vector') then
        begin
            create extension if not exists vector;
        exception when insufficient_privilege or feature_not_supported then
            raise notice 'pgvector is available but could not be created: exact lookalike search';
        end;
    end if;
    if exists (select 1 from pg_extension where extname = 'vector') then
        execute 'alter table silver.influencer_content_vectors'
            ' add column if not exists content_vector_pgv vector(384)';
        execute 'create index if not exists influencer_content_vectors_hnsw'
            ' on silver.influencer_content_vectors using hnsw (content_vector_pgv vector_cosine_ops)';
    end if;
end
$$;

-- The API's lookalike endpoint reads the content vectors and which version serves.
do $$
declare
    api_role text := ops.api_role_name();
begin
    if exists (select 1 from pg_roles where rolname = api_role) then
        execute format('grant usage on schema silver to %I', api_role);
        execute format(
            'grant select on silver.influencer_content_vectors, silver.enrichment_versions to %I',
            api_role
        );
    end if;
end
$$;
