-- Posts whose existence the collector should probe next (Instagram media object, TikTok video
-- query): the first half of int_posts' deletion rule holds — a complete listing round of the
-- account started after the post was last seen — and no existence answer has been fetched since
-- the latest such round ended. The collector reads this table; it never restates the rule.
-- A probe answering "not found" then completes the rule in int_posts on the next build.
-- Indexed on the account: the collector asks for one account's candidates at every round.
{{ config(indexes=[{'columns': ['platform', 'account_id']}]) }}

with

posts as (

    select * from {{ ref('int_posts') }}
    where not is_deleted

),

complete_rounds as (

    select * from {{ ref('int_listing_rounds') }}
    where is_complete

),

checks as (

    select * from {{ ref('int_post_existence_checks') }}

),

-- the latest complete round of the account that no longer holds the post
missing as (

    select
        posts.platform,
        posts.account_id,
        posts.post_id,
        posts.last_seen_at,
        max(complete_rounds.ended_at) as listing_ended_at
    from posts
    inner join complete_rounds
        on complete_rounds.platform = posts.platform
        and complete_rounds.account_id = posts.account_id
        and complete_rounds.started_at > posts.last_seen_at
    group by posts.platform, posts.account_id, posts.post_id, posts.last_seen_at

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
