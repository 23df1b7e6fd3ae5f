-- One row per post of int_posts: the disclosure marker its caption holds, if any. Formulas in
-- post_sponsored_markers.yml; matching rules in macros/text_matching.sql.

with

-- captions repeat (creators reuse their captions, hashtags and phrases), and a caption's words
-- are the same for every post holding it: markers are looked for once per distinct caption,
-- through the words of one post holding it, and the caption's marker joined back to its posts
caption_posts as (

    select platform, caption, min(post_id) as post_id
    from {{ ref('int_posts') }}
    where caption is not null
    group by platform, caption

),

caption_words as (

    select caption_posts.platform, caption_posts.caption, words.word
    from {{ ref('post_caption_words') }} as words
    inner join caption_posts
        on caption_posts.platform = words.platform
        and caption_posts.post_id = words.post_id

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
    (found.marker is not null) as is_sponsored
from {{ ref('int_posts') }} as posts
left join found
    on found.platform = posts.platform
    and found.caption = posts.caption
    and found.marker_rank = 1
