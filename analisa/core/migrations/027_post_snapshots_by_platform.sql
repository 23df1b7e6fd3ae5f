-- silver.int_post_snapshots becomes a view of one table per platform, built side by side
-- (int_post_snapshots__instagram, __tiktok): dbt replaces the table with the view on the next
-- silver build. What the table kept in ops goes with it: its watermark (being the oldest mark of
-- the models built from it, it would hold their incremental builds at the point the table was
-- last built), its marks in the staging models' logs of post changes (the log keeps what its
-- oldest reader has not read: they would keep it all), and its own log. int_posts and
-- int_post_listing_gaps have no marks in the new tables' logs yet, so their next build is whole.
delete from ops.bronze_watermarks where relation_name = 'silver.int_post_snapshots';
delete from ops.post_change_marks
where consumer = 'silver.int_post_snapshots' or producer = 'silver.int_post_snapshots';
delete from ops.post_changes where relation_name = 'silver.int_post_snapshots';
