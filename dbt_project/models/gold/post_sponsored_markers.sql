-- One row per post of int_posts: the disclosure marker its caption holds, if any. Formulas in
-- post_sponsored_markers.yml; matching rules in macros/text_matching.sql.
--
-- Account-incremental (macros/incremental.sql, "Account-incremental gold"): a build finds the
-- markers of the accounts whose posts changed, and keeps every other row.

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    indexes=[{'columns': ['platform', 'post_id']}, {'columns': ['platform', 'account_id']}],
    pre_hook="{{ follow_accounts() }}",
) }}

with

posts as (

    select platform, account_id, post_id, caption
    from {{ ref('int_posts') }}
    where true
    {{ only_changed_accounts('platform', 'account_id') }}

),

{{ distinct_caption_words('posts', few_posts=accounts_increment()) }},

markers as (

    select
        marker,
        priority,
        trim({{ match_term('marker') }}) as marker_text,
        {{ phrase_anchor("trim(" ~ match_term('marker') ~ ")") }} as anchor,
        {{ dbt.position("' '", "trim(" ~ match_term('marker') ~ ")") }} > 0 as is_phrase
    from {{ ref('sponsored_markers') }}

),

-- a hashtag or single word is found by its word alone; a phrase can only be in a caption
-- holding its longest word, and only those captions are searched whole
lookup_words as (

    select marker, priority, marker_text, is_phrase,
        case when is_phrase then anchor else marker_text end as lookup_word
    from markers

),

candidates as (

    select distinct caption_words.platform, caption_words.caption, lookup_words.marker,
        lookup_words.priority, lookup_words.marker_text, lookup_words.is_phrase
    from caption_words
    inner join lookup_words
        on lookup_words.lookup_word = caption_words.word

),

all_found as (

    select platform, caption, marker, priority, marker_text,
        count(*) over (partition by platform, caption) as markers_found
    from candidates
    where not is_phrase
        or {{ dbt.position("' ' || marker_text || ' '", match_text('caption')) }} > 0

),

-- the marker written first (ties: the seed's priority); a caption is searched only when it
-- holds more than one marker
found as (

    select
        platform,
        caption,
        marker,
        row_number() over (
            partition by platform, caption
            order by
                case
                    when markers_found = 1 then 1
                    else {{ dbt.position("' ' || marker_text || ' '", match_text('caption')) }}
                end,
                priority
        ) as marker_rank
    from all_found

)

select
    posts.platform,
    posts.post_id,
    found.marker as sponsored_marker,
    (found.marker is not null) as is_sponsored,
    posts.account_id
from posts
left join found
    on found.platform = posts.platform
    and found.caption = posts.caption
    and found.marker_rank = 1
