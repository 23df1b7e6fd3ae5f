-- The newest answers of each endpoint, read by the silver and gold gates (the freshness
-- reference and the quarantine share of the latest 24 h, expectations/layer.py): the lookup
-- index (platform, endpoint, account_id, fetched_at) cannot range on fetched_at without an
-- account, so every gate read all of an endpoint's index (1,500,000 insights answers: 0.15 to
-- 0.32 s a query, three queries a build).
create index if not exists raw_records_endpoint_fetched_idx
    on bronze.raw_records (platform, endpoint, fetched_at);

-- Responses that were not valid JSON are few: the malformed-responses check and the bronze
-- assets' counts find them on this partial index instead of reading all of bronze.
create index if not exists raw_records_malformed_idx
    on bronze.raw_records (platform, endpoint, record_id)
    where parse_error is not null;
