-- One row per (platform, account, dimension, segment, capture): every follower-demographics
-- capture is kept here; gold reads the latest per account and dimension. Instagram only: the
-- TikTok Display API has no audience data.
--
-- A view: the rows are the staging table's, renamed, and the staging table keeps its key
-- unique. As a table it was copied whole and indexed in every build, incremental ones included
-- (226,500 captures at 10,000 influencers: 2.3 s of each build, the index 1.3 s of it).

{{ config(materialized='view') }}

select
    'instagram' as platform,
    account_id,
    dimension,
    segment,
    value,
    record_id,
    captured_at
from {{ ref('stg_instagram__audience_demographics') }}
