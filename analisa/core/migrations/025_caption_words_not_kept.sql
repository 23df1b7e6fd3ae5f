-- gold.post_caption_words is no longer built: post_interests and post_sponsored_markers split the
-- captions they match themselves (dbt_project/macros/text_matching.sql, caption_word_matches).
-- dbt leaves the tables of removed models behind: this one held every word of every caption
-- (837 MB for 1,000,000 captions). Its watermark goes with it.
drop table if exists gold.post_caption_words;
delete from ops.bronze_watermarks where relation_name = 'gold.post_caption_words';
