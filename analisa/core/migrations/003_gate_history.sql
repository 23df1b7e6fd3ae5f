-- Row counts of each silver and gold table at every build its gate accepted. The gates compare a
-- new build with the last accepted one: a table that loses most of its rows between two builds
-- of an append-only bronze is a broken transform, whatever its rows look like one by one.
create schema if not exists ops;

create table if not exists ops.gate_row_counts (
    build_id    bigint generated always as identity primary key,
    layer       text        not null,  -- silver | gold
    table_name  text        not null,
    row_count   bigint      not null check (row_count >= 0),
    run_id      text,                  -- the Dagster run whose gate accepted the build
    recorded_at timestamptz not null default now()
);

create index if not exists gate_row_counts_latest_idx
    on ops.gate_row_counts (layer, table_name, build_id desc);
