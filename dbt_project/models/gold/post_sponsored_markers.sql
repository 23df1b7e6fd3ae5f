-- One row per post of int_posts: the disclosure marker its caption holds, if any. Formulas in
-- post_sponsored_markers.yml; matching rules in macros/text_matching.sql.
--
-- Account-incremental (macros/incremental.sql, "Account-incremental gold"): a build finds the
-- markers of the accounts whose posts changed, and keeps every other row.

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    indexes=[{'columns': ['platform', 'account_id']}],
    pre_hook=["{{ follow_accounts() }}", "{{ hash_join_lookups() }}"],
) }}

with

-- without the caption: every post is kept to the end, and only the captions of the posts with
-- a candidate marker are read (below)
posts as (

    select platform, account_id, post_id
    from {{ ref('int_posts') }}
    where true
    {{ only_changed_accounts('platform', 'account_id') }}

),

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

-- the captions split into words (macros/text_matching.sql, caption_word_matches): only those
-- that can hold a marker's word (may_hold_lookup_words; few do), kept, so that the expression
-- that picks them reads every caption once, not once for each reader of the split
captions as {{ computed_once() }} (

    select platform, post_id, caption
    from {{ ref('int_posts') }}
    where caption is not null
        and {{ may_hold_lookup_words('caption', 'lookup_words') }}
    {{ only_changed_accounts('platform', 'account_id') }}

),

{{ caption_word_matches('candidates', 'lookup_words',
    ['marker', 'priority', 'marker_text', 'is_phrase'], captions='captions') }},

all_found as (

    select candidates.platform, candidates.post_id, candidates.marker, candidates.priority,
        candidates.marker_text, posts.caption,
        count(*) over (partition by candidates.platform, candidates.post_id) as markers_found
    from candidates
    inner join {{ ref('int_posts') }} as posts
        on posts.platform = candidates.platform
        and posts.post_id = candidates.post_id
    where not candidates.is_phrase
        or {{ dbt.position("' ' || candidates.marker_text || ' '", match_text('posts.caption')) }} > 0

),

-- the marker written first (ties: the seed's priority); a caption is searched only when it
-- holds more than one marker
found as (

    select
        platform,
        post_id,
        marker,
        row_number() over (
            partition by platform, post_id
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
    and found.post_id = posts.post_id
    and found.marker_rank = 1
