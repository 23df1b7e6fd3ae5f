-- Collection under real limits: outcomes that survive crashes, scheduled work, account state.

-- The ledger row records the whole outcome: a redelivered task acts on it, never on a guess.
alter table bronze.collection_ledger
    add column if not exists retry_at  timestamptz,
    add column if not exists failures  integer not null default 0,
    add column if not exists next_task text;

-- The outbox: every task to publish, written in the transaction that decided it (a planner's
-- new work, or a task's retry committed with its ledger row). A relay publishes the rows whose
-- time has come and marks them; a crash between commit and publish only delays the publish.
create table if not exists ops.collection_outbox (
    task_id      text        primary key,
    platform     text        not null,
    account_id   text        not null,
    message      jsonb       not null,
    priority     integer     not null default 5,
    not_before   timestamptz not null,
    caused_by    text,                   -- the ledger row (task) that scheduled it, if any
    created_at   timestamptz not null default now(),
    published_at timestamptz
);
create index if not exists collection_outbox_due_idx
    on ops.collection_outbox (not_before) where published_at is null;

-- One row per tracked account: what the planner, `accounts list` and the collector agree on.
create table if not exists ops.account_state (
    platform             text        not null,
    account_id           text        not null,
    kind                 text        not null default 'connected',  -- connected | public
    pending_task_id      text,        -- work published or scheduled and not finished
    pending_since        timestamptz,
    last_attempt_at      timestamptz,
    last_success_at      timestamptz,
    next_due_at          timestamptz,
    needs_reauth         boolean     not null default false,
    reauth_reason        text,
    parked_task_id       text,
    parked_reason        text,
    parked_at            timestamptz,
    checkpoint           jsonb,       -- progress of an unfinished round (resumable work)
    last_full_listing_at timestamptz,
    last_old_insights_at timestamptz,
    primary key (platform, account_id)
);
create index if not exists account_state_due_idx
    on ops.account_state (next_due_at) where pending_task_id is null;

-- Which vault key sealed each token (key rotation re-encrypts under a new id).
alter table ops.oauth_tokens add column if not exists key_id text;
