-- What each pipeline run did, for monitoring. Dagster runs are short-lived processes that no
-- Prometheus can scrape, so every run writes its numbers here when it ends (orchestration/run.py
-- for in-process runs, a run status sensor for runs the daemon launches) and `analisa metrics`
-- serves them as gauges on each scrape (orchestration/lib/pipeline_runs.py).
create schema if not exists ops;

create table if not exists ops.pipeline_runs (
    run_id           text primary key,           -- Dagster's run id
    job_name         text        not null,
    status           text        not null check (status in ('success', 'failure', 'canceled')),
    started_at       timestamptz,
    finished_at      timestamptz not null,
    duration_seconds double precision check (duration_seconds >= 0),
    recorded_at      timestamptz not null default now()
);

create index if not exists pipeline_runs_latest_idx on ops.pipeline_runs (job_name, finished_at desc);

-- Wall time of each step (an op: a dbt layer, a gate, an export) that ran.
create table if not exists ops.pipeline_run_steps (
    run_id           text not null references ops.pipeline_runs on delete cascade,
    step_key         text not null,
    status           text not null,              -- success | failure | skipped | ...
    duration_seconds double precision check (duration_seconds >= 0),
    primary key (run_id, step_key)
);

-- Every asset check the run evaluated: the layer gates (kind 'gate') and dbt's tests.
create table if not exists ops.pipeline_run_checks (
    run_id     text    not null references ops.pipeline_runs on delete cascade,
    asset      text    not null,                 -- asset key, e.g. gold/fct_post_engagement
    check_name text    not null,
    kind       text    not null check (kind in ('gate', 'dbt_test', 'other')),
    passed     boolean not null,
    severity   text    not null,                 -- ERROR (blocking) | WARN
    primary key (run_id, asset, check_name)
);

create index if not exists pipeline_run_checks_gate_idx on ops.pipeline_run_checks (kind, check_name, asset);

-- Rows of every table of bronze, silver and gold when the run ended (exact counts).
create table if not exists ops.pipeline_run_rows (
    run_id     text   not null references ops.pipeline_runs on delete cascade,
    layer      text   not null check (layer in ('bronze', 'silver', 'gold')),
    table_name text   not null,
    row_count  bigint not null check (row_count >= 0),
    primary key (run_id, layer, table_name)
);
