-- One row per word of each post's caption, in the normal form of macros/text_matching.sql
-- (lower case, accents folded, hashtags keeping their #). Interests and sponsored markers join
-- these words by equality. Formulas in post_caption_words.yml.
--
-- Incremental on the caption itself, not on a time watermark: every row carries the hash of the
-- caption it was split from, so a build splits only the captions of posts that have no words of
-- their current caption yet (new posts, edited captions). Before that, the pre-hook removes the
-- words of captions that are no longer current (edited, removed, post gone). No lookback is
-- needed: whenever and however late a capture arrives, int_posts' current caption decides, so
-- an incremental build gives exactly the full refresh's rows. Only the posts of the accounts
-- whose data changed are looked at (macros/incremental.sql, "Account-incremental gold"): a post's
-- caption changes only when its account has new records.

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    indexes=[{'columns': ['platform', 'post_id']}],
    pre_hook="{{ follow_accounts() }};
        {% if is_incremental() %}{{ remove_outdated_caption_words() }}{% endif %}"
) }}

with

-- the posts and their pieces are read twice below (the distinct pieces, and every piece): they
-- are cheap to compute again, and computed where they are read the whole query can run in
-- parallel (a full build of 1,000,000 captions: 16.7 s against 19.5 s with the pieces kept once)
posts as {{ computed_where_used() }} (

    select
        posts.platform,
        posts.post_id,
        posts.caption,
        {{ dbt.hash('posts.caption') }} as caption_hash
    from {{ ref('int_posts') }} as posts
    where posts.caption is not null
    {{ only_changed_accounts('posts.platform', 'posts.account_id') }}
    {% if is_incremental() %}
    -- what the pre-hook left holds current captions only: split those without words
        and not exists (
            select 1
            from {{ this }} as done
            where done.platform = posts.platform
                and done.post_id = posts.post_id
        )
    {% endif %}
    -- the hash once per caption, not once per word joined to it
    {{ per_row_of_its_own() }}

),

-- each caption is cut on spaces where it stands (cheap), and its pieces carry the post they
-- belong to: joining words back to posts through the caption text cost a sort of every piece
-- with its caption
pieces as {{ computed_where_used() }} (

    select posts.platform, posts.post_id, posts.caption_hash,
        {{ split_piece('posts.caption', 'piece') }} as piece
    from posts
    {{ split_on_spaces('posts.caption', 'piece') }}

),

-- the normal form is computed once per distinct piece, not once per caption: captions share
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

-- a word written twice in a caption is two rows here
select
    pieces.platform,
    pieces.post_id,
    piece_words.word,
    pieces.caption_hash
from pieces
inner join piece_words
    on piece_words.piece = pieces.piece
