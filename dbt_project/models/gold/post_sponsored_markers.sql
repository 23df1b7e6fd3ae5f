-- One row per post of int_posts: the disclosure marker its caption holds, if any. Formulas in
-- post_sponsored_markers.yml; matching rules in macros/text_matching.sql.

with

posts as (

    select platform, post_id, caption
    from {{ ref('int_posts') }}

),

words as (

    select * from {{ ref('post_caption_words') }}

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
words_found as (

    select distinct words.platform, words.post_id, markers.marker, markers.priority,
        markers.marker_text
    from words
    inner join markers
        on markers.marker_text = words.word
    where not markers.is_phrase

),

phrases_found as (

    select candidates.platform, candidates.post_id, candidates.marker, candidates.priority,
        candidates.marker_text
    from (
        select distinct words.platform, words.post_id, markers.marker, markers.priority,
            markers.marker_text
        from words
        inner join markers
            on markers.anchor = words.word
        where markers.is_phrase
    ) as candidates
    inner join posts
        on posts.platform = candidates.platform
        and posts.post_id = candidates.post_id
    where {{ dbt.position("' ' || candidates.marker_text || ' '", match_text('posts.caption')) }} > 0

),

all_found as (

    select *, count(*) over (partition by platform, post_id) as markers_found
    from (
        select * from words_found
        union all
        select * from phrases_found
    ) as found_markers

),

-- the marker written first (ties: the seed's priority); a caption is searched only when it
-- holds more than one marker
located as (

    select
        all_found.platform,
        all_found.post_id,
        all_found.marker,
        all_found.priority,
        case
            when all_found.markers_found = 1 then 1
            else {{ dbt.position("' ' || all_found.marker_text || ' '", match_text('posts.caption')) }}
        end as marker_position
    from all_found
    inner join posts
        on posts.platform = all_found.platform
        and posts.post_id = all_found.post_id

),

found as (

    select
        platform,
        post_id,
        marker,
        row_number() over (
            partition by platform, post_id order by marker_position, priority
        ) as marker_rank
    from located

)

select
    posts.platform,
    posts.post_id,
    found.marker as sponsored_marker,
    (found.marker is not null) as is_sponsored
from posts
left join found
    on found.platform = posts.platform
    and found.post_id = posts.post_id
    and found.marker_rank = 1
