-- One row per (platform, account, dimension, segment, capture): every follower-demographics
-- capture is kept here; gold reads the latest per account and dimension. Instagram only: the
-- TikTok Display API has no audience data.
--
-- Account-incremental (macros/incremental.sql, "Account-incremental gold"): a build copies again
-- the captures of the accounts with new bronze records and keeps every other row (copying every
-- capture was the costliest node of an incremental build: 1.3 s for 1 % new data).

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    indexes=[{'columns': ['platform', 'account_id']}],
    pre_hook="{{ follow_accounts() }}",
) }}

select
    'instagram' as platform,
    account_id,
    dimension,
    segment,
    value,
    record_id,
    captured_at
from {{ ref('stg_instagram__audience_demographics') }}
where true
{{ only_changed_accounts("'instagram'", 'account_id') }}
