-- One row per Instagram media listing round (all media pages of one round_id for one account).
-- A round is complete when every page is a 200 with a usable body (a `data` array) and one page
-- is the last (no `paging.next`): only then does "not in the listing" mean "not on the account".
-- A page retried inside the same round still leaves the failed attempt in it: the round counts as
-- incomplete, which only delays a deletion, never invents one.

with

pages as (

    select
        account_id,
        round_id,
        fetched_at,
        case
            when http_status = 200
                and body is not null
                and {{ json_type('body', 'data') }} = 'array'
                then 1
            else 0
        end as is_usable,
        case
            when http_status = 200
                and body is not null
                and {{ json_type('body', 'data') }} = 'array'
                and coalesce({{ json_text('body', 'paging', 'next') }}, '') = ''
                then 1
            else 0
        end as is_last_page
    from {{ source('bronze', 'instagram_media') }}

),

rounds as (

    select
        account_id,
        round_id,
        min(fetched_at) as started_at,
        max(fetched_at) as ended_at,
        count(*) as pages,
        sum(is_usable) as usable_pages,
        max(is_last_page) as has_last_page
    from pages
    group by account_id, round_id

)

select
    account_id,
    round_id,
    started_at,
    ended_at,
    pages,
    usable_pages,
    (usable_pages = pages and has_last_page = 1) as is_complete
from rounds
