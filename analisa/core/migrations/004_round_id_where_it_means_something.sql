-- round_id groups the pages of one listing. Other answers (profiles, insights, probes) imported
-- from files often carry none, and it means nothing for them: it may be null there.
alter table bronze.raw_records alter column round_id drop not null;
