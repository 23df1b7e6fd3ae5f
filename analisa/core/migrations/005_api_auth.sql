-- API access: workspaces (a brand or an agency), the influencers on their lists, their brands,
-- the API clients that get tokens (secrets stored as scrypt hashes only) and erasure requests.
-- A workspace sees only what it lists; the API answers 404 for anything else.
create schema if not exists ops;

create table if not exists ops.workspaces (
    workspace_id bigint generated always as identity primary key,
    -- lowercase handle, also the name `analisa token --workspace` takes
    name         text        not null unique check (name ~ '^[a-z0-9][a-z0-9._-]{0,62}$'),
    created_at   timestamptz not null default now()
);

create table if not exists ops.workspace_influencers (
    workspace_id bigint      not null references ops.workspaces on delete cascade,
    platform     text        not null,
    account_id   text        not null check (length(account_id) between 1 and 128),
    added_at     timestamptz not null default now(),
    primary key (workspace_id, platform, account_id)
);

create index if not exists workspace_influencers_account_idx
    on ops.workspace_influencers (platform, account_id);

-- Which brands (gold.brand_influencer_fit) a workspace may read.
create table if not exists ops.workspace_brands (
    workspace_id bigint      not null references ops.workspaces on delete cascade,
    brand        text        not null check (length(brand) between 1 and 128),
    added_at     timestamptz not null default now(),
    primary key (workspace_id, brand)
);

create table if not exists ops.api_clients (
    client_id    text        primary key check (client_id ~ '^cl_[a-f0-9]{16}$'),
    workspace_id bigint      not null references ops.workspaces on delete cascade,
    role         text        not null check (role in ('viewer', 'analyst', 'admin')),
    name         text        not null default '' check (length(name) <= 128),
    secret_hash  text        not null,  -- scrypt$N$r$p$salt$hash, never the secret
    created_at   timestamptz not null default now(),
    revoked_at   timestamptz
);

create index if not exists api_clients_workspace_idx on ops.api_clients (workspace_id);

-- Erasure requests (principle 7) made through the API; the pipeline carries them out.
create table if not exists ops.erasure_requests (
    request_id   bigint generated always as identity primary key,
    workspace_id bigint      not null references ops.workspaces on delete cascade,
    platform     text        not null,
    account_id   text        not null check (length(account_id) between 1 and 128),
    reason       text        not null default '' check (length(reason) <= 1000),
    requested_at timestamptz not null default now(),
    done_at      timestamptz
);
