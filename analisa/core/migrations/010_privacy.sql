-- Privacy (principle 7): erasure, the suppression list and the audit log. Nothing here holds a
-- person's id or username in clear: subjects are named by a keyed pseudonym (HMAC-SHA256 under
-- ANALISA_PSEUDONYM_KEY, analisa.core.crypto.pseudonymise), computed by the application.
create schema if not exists ops;

-- Accounts erased at their owner's request: collection and `analisa ingest` store nothing of
-- them (connectors/suppression.py) until the owner connects again through OAuth themselves.
create table if not exists ops.suppressions (
    subject        text        primary key check (subject ~ '^[0-9a-f]{64}$'),  -- platform:account id
    platform       text        not null,
    id_token       text        not null check (id_token ~ '^[0-9a-f]{64}$'),    -- the bare id
    username_token text        check (username_token ~ '^[0-9a-f]{64}$'),       -- lowercased username
    reason         text        not null default 'erasure',
    suppressed_at  timestamptz not null default now()
);
create index if not exists suppressions_id_token_idx on ops.suppressions (id_token);
create index if not exists suppressions_username_token_idx on ops.suppressions (username_token);

-- Who did what to whose data, and how it ended: admin and data-subject actions.
create table if not exists ops.audit_log (
    audit_id   bigint generated always as identity primary key,
    at         timestamptz not null default now(),
    actor      text        not null check (length(actor) between 1 and 200),  -- OS user or API client
    action     text        not null check (length(action) between 1 and 64),
    subject    text        check (subject ~ '^[0-9a-f]{64}$'),
    outcome    text        not null check (outcome in ('ok', 'failed', 'refused', 'nothing')),
    details    jsonb       not null default '{}'::jsonb  -- counts and reasons, never personal data
);
create index if not exists audit_log_at_idx on ops.audit_log (at desc);
create index if not exists audit_log_subject_idx on ops.audit_log (subject);

-- Erasure requests made through the API (migration 005) are carried out by `analisa erase
-- --pending`. Once done the request keeps only the pseudonym: the raw id goes with the rest.
alter table ops.erasure_requests
    add column if not exists subject    text check (subject ~ '^[0-9a-f]{64}$'),
    add column if not exists status     text not null default 'pending'
        check (status in ('pending', 'running', 'done', 'failed')),
    add column if not exists requested_by text,
    add column if not exists outcome    jsonb,
    add column if not exists error      text;
alter table ops.erasure_requests alter column account_id drop not null;
alter table ops.erasure_requests drop constraint if exists erasure_requests_account_id_check;
alter table ops.erasure_requests add constraint erasure_requests_account_id_check
    check (account_id is null or length(account_id) between 1 and 128);
alter table ops.erasure_requests drop constraint if exists erasure_requests_identified;
alter table ops.erasure_requests add constraint erasure_requests_identified
    check (account_id is not null or subject is not null);
create index if not exists erasure_requests_pending_idx
    on ops.erasure_requests (request_id) where status in ('pending', 'running');

-- The API records who asked for an erasure (POST /v1/admin/erasures) in the audit log: it may
-- append to it, and read nothing of it.
do $$
declare
    api_role text := ops.api_role_name();
begin
    if exists (select 1 from pg_roles where rolname = api_role) then
        execute format('grant insert on ops.audit_log to %I', api_role);
        execute format('grant usage on sequence ops.audit_log_audit_id_seq to %I', api_role);
    end if;
end
$$;
