{#-
    The rows of gold.post_interests of one platform: the select of post_interests__instagram and
    post_interests__tiktok, which the view post_interests puts together. One row per (platform,
    post, interest, method): method 'keyword' when the taxonomy's terms are in the caption
    (macros/text_matching.sql), 'embedding' when the enrichment's model scored the caption for the
    interest (serving version only, caption unchanged since). Deleted posts included and flagged.
    Formulas in post_interests.yml.

    One table per platform, built side by side: finding every caption's words was the longest
    model of a gold build (one table: 33.4 s of a 44.5 s gold step in the benchmark, 1,000,000
    captions, and the models after it waited for it), and one select runs on one core; split,
    the halves took 18.4 and 17.3 s side by side where the whole had taken 44.1 s (other builds
    of the same database, the same day).

    Account-incremental (macros/incremental.sql, "Account-incremental gold"): a build finds the
    interests of the accounts whose posts or scores changed, and keeps every other row.
-#}
{% macro post_interests_of(platform) %}
{%- set scores = ['caption_interest_scores'] %}

with

-- without the caption: these rows are kept while the matches are found and joined back to
-- them; the few captions searched whole are read where they are needed (materialising every
-- caption here cost 2.1 to 4.2 s of a 17 s full build)
posts as (

    select platform, account_id, post_id, posted_at, is_deleted
    from {{ ref('int_posts') }}
    where platform = '{{ platform }}'
    {{ only_changed_accounts('platform', 'account_id', scores) }}

),

-- the captions split into words (macros/text_matching.sql, caption_word_matches), read where
-- they are split
captions as {{ computed_where_used() }} (

    select platform, post_id, caption
    from {{ ref('int_posts') }}
    where caption is not null
        and platform = '{{ platform }}'
    {{ only_changed_accounts('platform', 'account_id', scores) }}

),

-- "#saude" and "#saúde" are one term once folded: each folded term counts once per interest
terms as (

    select distinct
        interest,
        trim({{ match_term('term') }}) as term_text
    from {{ ref('interest_taxonomy') }}

),

-- the word each term is looked up by: a single word or hashtag is found by itself; a phrase
-- ("look do dia") can only be in a caption holding its longest word, and only those captions
-- are searched whole. One select over every term, not a union of the words and the phrases:
-- the planner cannot estimate a filter on a term's text, took the words for one row, and
-- compared each caption word of an incremental build with every term in a nested loop
-- (76,600 words × 305 terms, 4.2 s for 100 accounts, against a hash lookup). Estimated right,
-- the terms made a full build sort every caption word to merge them (hash_join_lookups, macros/
-- statistics.sql: 59.1 s against 47.9 s for 7,660,000 words, same database, same hour).
lookup_words as (

    select
        interest,
        term_text,
        case
            when {{ dbt.position("' '", 'term_text') }} > 0 then {{ phrase_anchor('term_text') }}
            else term_text
        end as lookup_word,
        {{ dbt.position("' '", 'term_text') }} > 0 as is_phrase
    from terms

),

-- each post's words matched to the lookup (a word written twice is two rows here, counted once
-- below)
{{ caption_word_matches('word_matches', 'lookup_words', ['interest', 'term_text', 'is_phrase'],
    captions='captions', distinct=false) }},

-- a phrase is searched in the caption's normal form, made once per post holding a phrase's
-- lookup word (a regular expression per caption: the posts are kept first, so it is not computed
-- for every post while they are being picked)
phrase_posts as {{ computed_once() }} (

    select posts.platform, posts.post_id, posts.caption
    from {{ ref('int_posts') }} as posts
    where exists (
        select 1
        from word_matches
        where word_matches.is_phrase
            and word_matches.platform = posts.platform
            and word_matches.post_id = posts.post_id
    )

),

phrase_captions as (

    select platform, post_id, {{ match_text('caption') }} as caption_text
    from phrase_posts

),

-- grouped on the post alone, and the post's other columns joined afterwards: the sort of every
-- match carries only what it groups and lists
post_matches as (

    select
        word_matches.platform,
        word_matches.post_id,
        word_matches.interest,
        {{ listagg_distinct('word_matches.term_text', "', '") }} as matched_terms,
        count(distinct word_matches.term_text) as terms_matched
    from word_matches
    left join phrase_captions
        on phrase_captions.platform = word_matches.platform
        and phrase_captions.post_id = word_matches.post_id
    where not word_matches.is_phrase
        or {{ dbt.position("' ' || word_matches.term_text || ' '", 'phrase_captions.caption_text') }} > 0
    group by word_matches.platform, word_matches.post_id, word_matches.interest

),

keyword_rows as (

    select
        posts.platform,
        posts.account_id,
        posts.post_id,
        post_matches.interest,
        post_matches.matched_terms,
        post_matches.terms_matched,
        posts.posted_at,
        posts.is_deleted
    from post_matches
    inner join posts
        on posts.platform = post_matches.platform
        and posts.post_id = post_matches.post_id

),

serving_version as (

    {{ enrichment_serving_version() }}

),

-- the model's interests of the caption as it is now: an edited caption waits for its new scores
embedding_rows as (

    select
        posts.platform,
        posts.account_id,
        posts.post_id,
        scores.interest,
        cast(null as {{ dbt.type_string() }}) as matched_terms,
        cast(null as {{ dbt.type_bigint() }}) as terms_matched,
        posts.posted_at,
        posts.is_deleted,
        'embedding' as method,
        cast(scores.score as {{ type_exact_numeric() }}) as score,
        cast(scores.interest_rank as {{ dbt.type_int() }}) as interest_rank,
        scores.model_version
    from {{ source('silver', 'caption_interest_scores') }} as scores
    inner join serving_version
        on serving_version.model = scores.model
        and serving_version.model_version = scores.model_version
    inner join {{ ref('int_posts') }} as posts
        on posts.platform = scores.platform
        and posts.post_id = scores.post_id
        and {{ dbt.hash('posts.caption') }} = scores.caption_hash
    where scores.platform = '{{ platform }}'
    {{ only_changed_accounts('scores.platform', 'scores.account_id', scores) }}

)

select
    platform,
    account_id,
    post_id,
    interest,
    matched_terms,
    terms_matched,
    posted_at,
    is_deleted,
    'keyword' as method,
    cast(null as {{ type_exact_numeric() }}) as score,
    cast(null as {{ dbt.type_int() }}) as interest_rank,
    cast(null as {{ dbt.type_string() }}) as model_version
from keyword_rows

union all

select
    platform,
    account_id,
    post_id,
    interest,
    matched_terms,
    terms_matched,
    posted_at,
    is_deleted,
    method,
    score,
    interest_rank,
    model_version
from embedding_rows

{% endmacro %}
