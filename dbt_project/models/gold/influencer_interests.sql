-- One row per (platform, account, interest) found in the account's non-deleted posts. Formulas
-- in influencer_interests.yml.

with

live_post_interests as (

    select * from {{ ref('post_interests') }}
    where not is_deleted

),

tagged_posts as (

    select
        platform,
        account_id,
        count(distinct post_id) as posts_with_any_interest
    from live_post_interests
    group by platform, account_id

),

per_interest as (

    select
        platform,
        account_id,
        interest,
        count(*) as posts_with_interest
    from live_post_interests
    group by platform, account_id, interest

)

select
    per_interest.platform,
    per_interest.account_id,
    per_interest.interest,
    per_interest.posts_with_interest,
    tagged_posts.posts_with_any_interest,
    round(
        cast(per_interest.posts_with_interest as {{ type_exact_numeric() }})
        / tagged_posts.posts_with_any_interest,
        4
    ) as share,
    row_number() over (
        partition by per_interest.platform, per_interest.account_id
        order by per_interest.posts_with_interest desc, per_interest.interest
    ) as interest_rank
from per_interest
inner join tagged_posts
    on tagged_posts.platform = per_interest.platform
    and tagged_posts.account_id = per_interest.account_id
