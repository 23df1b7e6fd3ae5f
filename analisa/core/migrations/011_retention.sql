-- Retention of raw bronze, and keyed pseudonyms computed inside the database.

-- Every silver build, as it starts (recorded by dbt's on-run-start, macros/retention.sql): what
-- silver had read from bronze by then. A bronze row ingested more than the staging lookback
-- before the start of a build that the silver gate accepted is held by silver (every model that
-- reads bronze is incremental and keeps what it read), so retention may purge it.
create table if not exists ops.silver_builds (
    invocation_id text        primary key,  -- dbt's invocation id
    started_at    timestamptz not null default now()
);
create index if not exists silver_builds_started_idx on ops.silver_builds (started_at desc);

-- One row per table and purge: what went, up to when, and why that cutoff.
create table if not exists ops.retention_purges (
    purge_id         text        not null,  -- groups the tables of one purge
    table_name       text        not null,  -- bronze.raw_records | bronze.rejected_envelopes
    period_days      integer     not null check (period_days >= 1),
    cutoff           timestamptz,           -- rows ingested (rejected) before this were purged; null: nothing purgeable
    silver_through   timestamptz,           -- the accepted silver build's bronze high-water mark (raw records only)
    rows_deleted     bigint      not null default 0 check (rows_deleted >= 0),
    dry_run          boolean     not null default false,
    run_id           text,                  -- the Dagster run, when the schedule purged
    started_at       timestamptz not null default now(),
    finished_at      timestamptz,
    primary key (purge_id, table_name)
);
create index if not exists retention_purges_table_idx
    on ops.retention_purges (table_name, started_at desc);

-- Retention deletes by ingestion time; without this index every batch would scan bronze.
create index if not exists raw_records_ingested_idx on bronze.raw_records (ingested_at);
create index if not exists rejected_envelopes_rejected_idx on bronze.rejected_envelopes (rejected_at);

-- HMAC-SHA256 (RFC 2104) over the built-in sha256(): pgcrypto is not shipped by every
-- PostgreSQL Analisa runs on (the embedded server has none), and this gives the same hex as
-- analisa.core.crypto.pseudonymise. Inputs are hashed as their UTF-8 bytes. The key's pads are
-- XORed eight bytes at a time (about 25 microseconds a call).
create or replace function ops.hmac_sha256_hex(value text, key text)
returns text
language plpgsql
immutable
strict
parallel safe
as $$
declare
    k bytea := convert_to(key, 'UTF8');
    khex text;
    ipad text := '';
    opad text := '';
    chunk bigint;
begin
    if length(k) > 64 then
        k := sha256(k);
    end if;
    khex := rpad(encode(k, 'hex'), 128, '0');
    for i in 0..7 loop
        chunk := ('x' || substr(khex, i * 16 + 1, 16))::bit(64)::bigint;
        ipad := ipad || lpad(to_hex(chunk # x'3636363636363636'::bigint), 16, '0');
        opad := opad || lpad(to_hex(chunk # x'5c5c5c5c5c5c5c5c'::bigint), 16, '0');
    end loop;
    return encode(
        sha256(decode(opad, 'hex') || sha256(decode(ipad, 'hex') || convert_to(value, 'UTF8'))),
        'hex'
    );
end
$$;

-- The pseudonym of a person's identifier under the deployment's key. The key never appears in
-- a statement: the dbt run gets it as a session setting (libpq PGOPTIONS, set only in the
-- environment of the dbt process), so it is in no query text, log line or table.
create or replace function ops.pseudonym(value text)
returns text
language plpgsql
stable
parallel safe
as $$
declare
    key text := current_setting('analisa.pseudonym_key', true);
begin
    if key is null or key = '' then
        raise exception 'analisa.pseudonym_key is not set for this session'
            using hint = 'run dbt through analisa (analisa pipeline, or the Dagster dbt assets), '
                         'which supply ANALISA_PSEUDONYM_KEY to the dbt process only';
    end if;
    if value is null then
        return null;
    end if;
    return ops.hmac_sha256_hex(value, key);
end
$$;
