-- The posts each build of a post-level model changed, for the models built from it
-- (macros/incremental.sql, "Post-incremental silver"): a staging model's build logs the posts of
-- the rows it wrote, int_post_snapshots the posts it rebuilt; a build that rewrote its model
-- whole logs one row without a post. A model built from them reads the changes logged since its last build
-- instead of looking its posts up by account in tables of millions of rows (0.5 to 0.9 s a
-- model on every incremental build). Rows every reader has read are removed by the model logging
-- them, on its next build.
create table if not exists ops.post_changes (
    relation_name text   not null,  -- the model whose build changed the posts
    built_xid     bigint not null,  -- that build's transaction
    platform      text,             -- null with post_id: the build rewrote the whole model
    post_id       text
);
create index if not exists post_changes_relation_idx
    on ops.post_changes (relation_name, built_xid);

-- Where each reader stands in each model's log: the snapshot of its last build. It has read
-- every change logged by a transaction that snapshot sees; the others are read by its next build
-- (a snapshot, not its oldest running transaction: a build running beside it, such as a model
-- rewritten whole, is not read twice).
create table if not exists ops.post_change_marks (
    consumer    text        not null,
    producer    text        not null,
    seen        pg_snapshot not null,
    recorded_at timestamptz not null default now(),
    primary key (consumer, producer)
);
