-- One row per listing round of either platform, with whether it is complete (see the staging
-- models for the per-platform rule). Complete rounds are what int_posts trusts for deletions.

with

instagram as (

    select 'instagram' as platform, *
    from {{ ref('stg_instagram__media_listing_rounds') }}

),

tiktok as (

    select 'tiktok' as platform, *
    from {{ ref('stg_tiktok__video_listing_rounds') }}

)

select platform, account_id, round_id, started_at, ended_at, pages, usable_pages, is_complete
from instagram
union all
select platform, account_id, round_id, started_at, ended_at, pages, usable_pages, is_complete
from tiktok
