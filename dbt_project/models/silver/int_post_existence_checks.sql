-- One row per answer about whether a single post exists (Instagram media object probes, TikTok
-- video queries): answer = exists | not_found.

with

instagram as (

    select
        'instagram' as platform,
        account_id,
        post_id,
        answer,
        record_id,
        checked_at
    from {{ ref('stg_instagram__media_object') }}

),

tiktok as (

    select
        'tiktok' as platform,
        account_id,
        post_id,
        answer,
        record_id,
        checked_at
    from {{ ref('stg_tiktok__video_query') }}

)

select * from instagram
union all
select * from tiktok
