-- Posts whose existence the collector should probe next (Instagram media object, TikTok video
-- query): not deleted, the first half of the deletion rule holds (int_post_listing_gaps: a
-- complete listing round of the account started after the post was last seen), and no existence
-- answer has been fetched since the latest such round ended. The collector reads this table; it never restates the rule.
-- A probe answering "not found" then completes the rule in int_posts on the next build.
-- Indexed on the account: the collector asks for one account's candidates at every round.
{{ config(indexes=[{'columns': ['platform', 'account_id']}]) }}

with

posts as (

    select * from {{ ref('int_posts') }}
    where not is_deleted

),

checks as (

    select * from {{ ref('int_post_existence_checks') }}

),

-- the latest complete round of the account that no longer holds the post (int_post_listing_gaps)
missing as (

    select
        gaps.platform,
        gaps.account_id,
        gaps.post_id,
        gaps.last_seen_at,
        gaps.latest_listing_ended_at as listing_ended_at
    from {{ ref('int_post_listing_gaps') }} as gaps
    inner join posts
        on posts.platform = gaps.platform
        and posts.post_id = gaps.post_id

)

select
    missing.platform,
    missing.account_id,
    missing.post_id,
    missing.last_seen_at,
    missing.listing_ended_at
from missing
where not exists (
    select 1
    from checks
    where checks.platform = missing.platform
        and checks.post_id = missing.post_id
        and checks.checked_at >= missing.listing_ended_at
)
