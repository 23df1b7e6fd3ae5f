-- Lost work swept: a task published to the broker whose message never reached a worker (a
-- purged queue, a broker that lost it) is made unpublished again by the sweep
-- (connectors/sweep.py), so the relay publishes it once more. These columns say when and how
-- often that happened to each task.
alter table ops.collection_outbox
    add column if not exists swept_at timestamptz,
    add column if not exists sweeps   integer not null default 0;
