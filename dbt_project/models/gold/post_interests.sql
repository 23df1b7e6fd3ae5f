-- One row per (platform, post, interest, method): method 'keyword' when the taxonomy's terms are
-- in the caption (macros/text_matching.sql), 'embedding' when the enrichment's model scored the
-- caption for the interest (serving version only, caption unchanged since). Deleted posts
-- included and flagged. Formulas in post_interests.yml.

with

posts as (

    select platform, account_id, post_id, posted_at, is_deleted, caption
    from {{ ref('int_posts') }}

),

words as (

    select * from {{ ref('post_caption_words') }}

),

-- "#saude" and "#saúde" are one term once folded: each folded term counts once per interest
terms as (

    select distinct
        interest,
        trim({{ match_term('term') }}) as term_text
    from {{ ref('interest_taxonomy') }}

),

phrases as (

    select interest, term_text, {{ phrase_anchor('term_text') }} as anchor
    from terms
    where {{ dbt.position("' '", 'term_text') }} > 0

),

-- a phrase ("look do dia") can only be in a caption holding its longest word: only those
-- captions are searched whole
phrase_candidates as (

    select distinct words.platform, words.post_id, phrases.interest, phrases.term_text
    from words
    inner join phrases
        on phrases.anchor = words.word

),

matches as (

    select words.platform, words.post_id, terms.interest, terms.term_text
    from words
    inner join terms
        on terms.term_text = words.word

    union all

    select phrase_candidates.platform, phrase_candidates.post_id, phrase_candidates.interest,
        phrase_candidates.term_text
    from phrase_candidates
    inner join posts
        on posts.platform = phrase_candidates.platform
        and posts.post_id = phrase_candidates.post_id
    where {{ dbt.position(
        "' ' || phrase_candidates.term_text || ' '", match_text('posts.caption')
    ) }} > 0

),

-- a word written twice in a caption is one match
distinct_matches as (

    select distinct platform, post_id, interest, term_text from matches

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
    inner join posts
        on posts.platform = scores.platform
        and posts.post_id = scores.post_id
        and {{ dbt.hash('posts.caption') }} = scores.caption_hash

),

keyword_rows as (

    select
        posts.platform,
        posts.account_id,
        posts.post_id,
        distinct_matches.interest,
        {{ dbt.listagg('distinct_matches.term_text', "', '", 'order by distinct_matches.term_text') }}
            as matched_terms,
        count(*) as terms_matched,
        posts.posted_at,
        posts.is_deleted
    from distinct_matches
    inner join posts
        on posts.platform = distinct_matches.platform
        and posts.post_id = distinct_matches.post_id
    group by
        posts.platform, posts.account_id, posts.post_id, distinct_matches.interest,
        posts.posted_at, posts.is_deleted

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
