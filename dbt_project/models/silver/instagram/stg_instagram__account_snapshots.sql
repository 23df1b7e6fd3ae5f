-- One row per Instagram profile capture: the account's own profile (/me) or a Business Discovery
-- answer about it (public counts of a creator who has not connected, asked through another account).
-- Incremental on bronze's ingested_at (macros/incremental.sql), so it keeps what retention purges.

{{
    config(
        materialized='incremental',
        unique_key=['account_id', 'captured_at'],
        incremental_strategy='delete+insert',
        on_schema_change='fail'
    )
}}

with

source as (

    select * from {{ source('bronze', 'instagram_user') }}
    where http_status = 200
        and body is not null
        {{ bronze_increment() }}

),

profiles as (

    select
        record_id,
        account_id,
        round_id,
        coalesce({{ json_text('body', 'user_id') }}, {{ json_text('body', 'id') }}) as ig_user_id,
        {{ json_text('body', 'username') }} as username,
        {{ json_bigint('body', 'followers_count') }} as followers_count,
        {{ json_bigint('body', 'follows_count') }} as follows_count,
        {{ json_bigint('body', 'media_count') }} as media_count,
        'profile' as snapshot_source,
        fetched_at as captured_at,
        ingested_at
    from source
    where coalesce({{ json_type('body', 'business_discovery') }}, 'null') <> 'object'

),

discoveries as (

    select
        record_id,
        account_id,
        round_id,
        {{ json_text('body', 'business_discovery', 'id') }} as ig_user_id,
        -- the username is in the answer only when it was asked as a field; the request always names it
        coalesce(
            {{ json_text('body', 'business_discovery', 'username') }},
            {{ regexp_capture('request', 'business_discovery[.]username(?:[(]|%28)([^)%&]+)') }}
        ) as username,
        {{ json_bigint('body', 'business_discovery', 'followers_count') }} as followers_count,
        {{ json_bigint('body', 'business_discovery', 'follows_count') }} as follows_count,
        {{ json_bigint('body', 'business_discovery', 'media_count') }} as media_count,
        'business_discovery' as snapshot_source,
        fetched_at as captured_at,
        ingested_at
    from source
    where {{ json_type('body', 'business_discovery') }} = 'object'

),

unioned as (

    select * from profiles
    union all
    select * from discoveries

),

deduplicated as (

    select
        *,
        row_number() over (
            partition by account_id, captured_at
            order by case when snapshot_source = 'profile' then 0 else 1 end, record_id desc
        ) as duplicate_rank
    from unioned
    -- an answer without the user's id is not a usable capture (quarantine_records says why)
    where ig_user_id is not null

)

select
    record_id,
    account_id,
    round_id,
    ig_user_id,
    username,
    followers_count,
    follows_count,
    media_count,
    snapshot_source,
    captured_at,
    ingested_at
from deduplicated
where duplicate_rank = 1
