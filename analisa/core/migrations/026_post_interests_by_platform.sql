-- gold.post_interests becomes a view of one table per platform, built side by side
-- (dbt_project/macros/post_interests.sql): dbt replaces the table with the view on the next gold
-- build. A view records no mark: the table's would stay in ops.bronze_watermarks and, being the
-- oldest mark of the models influencer_interests is built from, hold its incremental builds at
-- the point the table was last built.
delete from ops.bronze_watermarks where relation_name = 'gold.post_interests';
