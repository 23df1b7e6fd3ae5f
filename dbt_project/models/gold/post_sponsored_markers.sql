-- One row per post of int_posts: the disclosure marker its caption holds, if any. Formulas in
-- post_sponsored_markers.yml; matching rules in macros/text_matching.sql.

with

posts as (

    select
        platform,
        post_id,
        {{ match_text('caption') }} as caption_words
    from {{ ref('int_posts') }}

),

markers as (

    select
        marker,
        priority,
        {{ match_term('marker') }} as marker_words
    from {{ ref('sponsored_markers') }}

),

found as (

    select
        posts.platform,
        posts.post_id,
        markers.marker,
        row_number() over (
            partition by posts.platform, posts.post_id
            order by
                {{ dbt.position('markers.marker_words', 'posts.caption_words') }},
                markers.priority
        ) as marker_rank
    from posts
    inner join markers
        on {{ dbt.position('markers.marker_words', 'posts.caption_words') }} > 0

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
