-- One row per (platform, account, interest) found in the account's non-deleted posts by either
-- method of post_interests (taxonomy keywords, the enrichment's model), with the method shown.
-- Formulas in influencer_interests.yml.
--
-- Account-incremental (macros/incremental.sql, "Account-incremental gold"): a build counts again
-- the accounts whose posts or scores changed, and keeps every other row.

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    indexes=[{'columns': ['platform', 'account_id']}],
    pre_hook="{{ follow_accounts(['caption_interest_scores']) }}",
) }}

with

-- read twice below, so its rows are kept: only the columns counted
live_post_interests as (

    select platform, account_id, post_id, interest, method
    from {{ ref('post_interests') }}
    where not is_deleted
    {{ only_changed_accounts('platform', 'account_id', ['caption_interest_scores']) }}

),

tagged_posts as (

    select
        platform,
        account_id,
        count(distinct post_id) as posts_with_any_interest
    from live_post_interests
    group by platform, account_id

),

-- a post found by both methods counts once for the interest
per_interest as (

    select
        platform,
        account_id,
        interest,
        count(distinct post_id) as posts_with_interest,
        count(distinct case when method = 'keyword' then post_id end) as posts_by_keyword,
        count(distinct case when method = 'embedding' then post_id end) as posts_by_embedding
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
    ) as interest_rank,
    case
        when per_interest.posts_by_keyword > 0 and per_interest.posts_by_embedding > 0
            then 'keyword+embedding'
        when per_interest.posts_by_keyword > 0 then 'keyword'
        else 'embedding'
    end as method,
    per_interest.posts_by_keyword,
    per_interest.posts_by_embedding
from per_interest
inner join tagged_posts
    on tagged_posts.platform = per_interest.platform
    and tagged_posts.account_id = per_interest.account_id
