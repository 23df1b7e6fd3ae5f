-- One row per (platform, account, dimension, segment, capture): every follower-demographics
-- capture is kept here; gold reads the latest per account and dimension. Instagram only: the
-- TikTok Display API has no audience data.

select
    'instagram' as platform,
    account_id,
    dimension,
    segment,
    value,
    record_id,
    captured_at
from {{ ref('stg_instagram__audience_demographics') }}
