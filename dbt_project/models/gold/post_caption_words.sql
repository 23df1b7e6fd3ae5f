-- One row per word of each post's caption, in the normal form of macros/text_matching.sql
-- (lower case, accents folded, hashtags keeping their #). Interests and sponsored markers join
-- these words by equality. Formulas in post_caption_words.yml.

with

posts as (

    select platform, post_id, caption
    from {{ ref('int_posts') }}
    where caption is not null

),

pieces as (

    select posts.platform, posts.post_id, {{ split_piece('posts.caption', 'piece') }} as piece
    from posts
    {{ split_on_spaces('posts.caption', 'piece') }}

),

-- the normal form is computed once per distinct piece, not once per post: captions repeat
-- their words and hashtags, and folding accents is the costly step
distinct_pieces as (

    select distinct piece from pieces

),

{% set normal_piece =
    'trim(' ~ words_only(dbt.replace(fold_text('distinct_pieces.piece'), "'#'", "' #'")) ~ ')' %}
piece_words as (

    select
        distinct_pieces.piece,
        {{ split_piece(normal_piece, 'piece_word') }} as word
    from distinct_pieces
    {{ split_on_spaces(normal_piece, 'piece_word') }}
    where {{ split_piece(normal_piece, 'piece_word') }} <> ''

)

select
    pieces.platform,
    pieces.post_id,
    piece_words.word
from pieces
inner join piece_words
    on piece_words.piece = pieces.piece
