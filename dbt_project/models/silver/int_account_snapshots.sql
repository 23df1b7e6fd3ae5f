-- One row per (platform, account, capture): account snapshots of both platforms on one shape.
-- The same capture stored twice (e.g. replayed under another round) appears once.

with

instagram as (

    select
        'instagram' as platform,
        account_id,
        ig_user_id as platform_user_id,
        username,
        followers_count as followers,
        follows_count as following,
        media_count as posts_count,
        cast(null as {{ dbt.type_bigint() }}) as likes_count,
        snapshot_source,
        record_id,
        captured_at
    from {{ ref('stg_instagram__account_snapshots') }}

),

tiktok as (

    select
        'tiktok' as platform,
        account_id,
        open_id as platform_user_id,
        display_name as username,
        follower_count as followers,
        following_count as following,
        video_count as posts_count,
        likes_count,
        'user_info' as snapshot_source,
        record_id,
        captured_at
    from {{ ref('stg_tiktok__account_snapshots') }}

),

unioned as (

    select * from instagram
    union all
    select * from tiktok

),

deduplicated as (

    select
        *,
        row_number() over (
            partition by platform, account_id, captured_at
            order by record_id desc
        ) as duplicate_rank
    from unioned

)

select
    platform,
    account_id,
    platform_user_id,
    username,
    followers,
    following,
    posts_count,
    likes_count,
    snapshot_source,
    record_id,
    captured_at
from deduplicated
where duplicate_rank = 1
