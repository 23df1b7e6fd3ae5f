-- Where the bronze gate last stopped, per catalog endpoint: it judges only the records loaded
-- since (expectations/bronze.py), so its cost follows the new data, not all of bronze.
--
-- A record never changes once loaded and every rule but one is about the record alone, so a
-- record judged good stays good; the mark of an endpoint moves only when the endpoint passed, so
-- a bad record is judged again at every gate run until it is removed. The records of the
-- transactions the gate's snapshot could not see (from its xmax on, and those still running
-- below it; `ingested_xid`, migration 019) are judged by the next run, however long their load
-- ran. `records` is how many records lie below the mark, all judged good: the gate reports the
-- endpoint's whole count without counting bronze again. The newest fetched_at below the mark, of any answer and of
-- a 2xx answer with a body, bound the records the silver and gold gates read for freshness and
-- for the quarantine share (expectations/layer.py): the latest window of each endpoint, not all
-- of bronze.
create table if not exists ops.bronze_gate_marks (
    platform    text        not null,
    endpoint    text        not null,
    next_xid    bigint      not null,  -- judge records from this transaction id on ...
    pending_xids bigint[]   not null default '{}',  -- ... and those of these transactions
    records     bigint      not null check (records >= 0),  -- records below the mark
    newest_fetched_at timestamptz,     -- newest fetched_at below the mark
    newest_answer_at  timestamptz,     -- the same, of a 2xx answer with a body
    recorded_at timestamptz not null default now(),
    primary key (platform, endpoint)
);
