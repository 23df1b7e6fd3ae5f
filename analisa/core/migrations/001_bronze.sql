-- Bronze: raw platform responses, append-only, partitioned by month of capture.
create schema if not exists bronze;

create table if not exists bronze.raw_records (
    record_id     bigint generated always as identity,
    record_hash   text        not null,  -- sha256 of the whole envelope: the dedup key
    content_hash  text        not null,  -- sha256 of the body as received
    platform      text        not null,  -- checked against the catalog (analisa.core.db.apply_catalog)
    endpoint      text        not null,
    account_id    text        not null,
    object_id     text,
    round_id      text        not null,  -- groups the pages of one listing / one collection task
    fetched_at    timestamptz not null,
    http_status   integer     not null,
    body          jsonb,                 -- parsed body; null when the body was not valid JSON
    body_text     text,                  -- the exact body, kept only when it was not valid JSON
    parse_error   text,
    request       text,                  -- method and path, secrets removed
    source        text        not null,  -- collector | file:<name>
    task_id       text,
    ingested_at   timestamptz not null default now(),
    primary key (record_hash, fetched_at)
) partition by range (fetched_at);

create index if not exists raw_records_lookup_idx
    on bronze.raw_records (platform, endpoint, account_id, fetched_at);

-- One row per collection task that committed: written in the same transaction as its records,
-- so a redelivered task finds its row and changes nothing.
create table if not exists bronze.collection_ledger (
    task_id      text primary key,
    platform     text        not null,
    account_id   text        not null,
    round_id     text        not null,
    records      integer     not null,
    outcome      text        not null,
    detail       text,
    committed_at timestamptz not null default now()
);

-- Envelopes that could not be loaded (bad JSON line, unknown platform, ...), kept whole with the reason.
create table if not exists bronze.rejected_envelopes (
    rejection_id bigint generated always as identity primary key,
    source_file  text        not null,
    line_no      integer     not null,
    reason       text        not null,
    raw_line     text        not null,
    raw_hash     text        not null,
    rejected_at  timestamptz not null default now(),
    unique (source_file, line_no, raw_hash)
);

-- Per-endpoint views (the dbt sources and the Dagster bronze assets) are made from the catalog
-- after the migrations: analisa.core.db.apply_catalog.

-- Operational state: tracked accounts and their OAuth tokens (AES-256-GCM ciphertext only).
create schema if not exists ops;

create table if not exists ops.accounts (
    platform     text        not null,
    account_id   text        not null,
    username     text,
    active       boolean     not null default true,
    added_at     timestamptz not null default now(),
    primary key (platform, account_id)
);

create table if not exists ops.oauth_tokens (
    platform               text        not null,
    account_id             text        not null,
    access_token_enc       bytea       not null,
    refresh_token_enc      bytea,
    access_expires_at      timestamptz,
    refresh_expires_at     timestamptz,
    scopes                 text,
    updated_at             timestamptz not null default now(),
    primary key (platform, account_id)
);
