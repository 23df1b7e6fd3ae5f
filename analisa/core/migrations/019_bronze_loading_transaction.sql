-- Incremental builds read the bronze records their last build could not see, exactly, instead
-- of everything loaded in the hour before it (macros/incremental.sql).
--
-- Every record carries the id of the transaction that loaded it (`ingested_xid`, PostgreSQL's
-- 64-bit transaction id as a bigint). A model that reads bronze records, in the same transaction
-- as its build, the oldest transaction its build could not see (the snapshot's xmin) in
-- ops.bronze_watermarks; its next incremental build reads the records with `ingested_xid` at or
-- above it. A load that started before a build and committed after it has an id above that
-- xmin, so it is read by the next build however long it ran; a load committed long before is
-- not read again.
--
-- Records loaded before this migration keep a null id: the first build after it falls back to
-- the ingested_at lookback (nothing recorded for the model yet) and records its watermark.
-- Adding the column and then its default rewrites nothing.
alter table bronze.raw_records add column if not exists ingested_xid bigint;
alter table bronze.raw_records
    alter column ingested_xid set default (pg_current_xact_id()::text::bigint);

-- one column: a staging model's read (one endpoint's new records) and an account-incremental
-- model's (every endpoint's) both start from the transaction id
create index if not exists raw_records_increment_idx on bronze.raw_records (ingested_xid);

create table if not exists ops.bronze_watermarks (
    relation_name text        primary key,  -- schema.table of the dbt model
    next_xid      bigint      not null,     -- read bronze from this transaction id on
    -- true: the model reads bronze itself; false: it follows those models (rebuilding the
    -- accounts with records from its mark up to theirs, macros/incremental.sql)
    reads_bronze  boolean     not null default true,
    recorded_at   timestamptz not null default now()
);
