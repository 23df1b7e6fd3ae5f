-- gold's post and account models rebuild only the accounts whose data changed since their last
-- build (macros/incremental.sql, "Account-incremental gold").
--
-- A gold model's change set is the accounts with bronze records, or with enrichment scores,
-- written by transactions from its mark up to the marks of the models it is built from. The
-- scores carry the id of the transaction that wrote them, as bronze records do (an edited
-- caption's scores are written again, an upsert sets the id anew). Rows written before this
-- migration keep a null id: every gold model rebuilds whole on its first build after it.
-- Adding the column and then its default rewrites nothing.
alter table silver.caption_interest_scores add column if not exists scored_xid bigint;
alter table silver.caption_interest_scores
    alter column scored_xid set default (pg_current_xact_id()::text::bigint);
create index if not exists caption_interest_scores_scored_xid
    on silver.caption_interest_scores (scored_xid);

alter table silver.caption_sentiment add column if not exists scored_xid bigint;
alter table silver.caption_sentiment
    alter column scored_xid set default (pg_current_xact_id()::text::bigint);
create index if not exists caption_sentiment_scored_xid on silver.caption_sentiment (scored_xid);

-- what else a model's rows were computed from (its code, its seeds, the enrichment's serving
-- version): a build whose inputs differ from the last one rebuilds the model whole
alter table ops.bronze_watermarks add column if not exists inputs_fingerprint text;

-- the transaction that last built the model: the rows it wrote carry it (xmin), and the model's
-- data tests after an incremental build check those rows (macros/test_scope.sql)
alter table ops.bronze_watermarks add column if not exists built_xid bigint;
