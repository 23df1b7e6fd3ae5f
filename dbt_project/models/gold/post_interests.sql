-- One row per (platform, post, interest) whose taxonomy terms the post's caption holds, deleted
-- posts included and flagged. Formulas in post_interests.yml; matching in macros/text_matching.sql.

with

posts as (

    select
        platform,
        account_id,
        post_id,
        posted_at,
        is_deleted,
        {{ match_text('caption') }} as caption_words
    from {{ ref('int_posts') }}

),

-- "#saude" and "#saúde" are one term once folded: each folded term counts once per interest
terms as (

    select distinct
        interest,
        {{ match_term('term') }} as term_words
    from {{ ref('interest_taxonomy') }}

),

matches as (

    select
        posts.platform,
        posts.account_id,
        posts.post_id,
        posts.posted_at,
        posts.is_deleted,
        terms.interest,
        trim(terms.term_words) as matched_term
    from posts
    inner join terms
        on {{ dbt.position('terms.term_words', 'posts.caption_words') }} > 0

)

select
    platform,
    account_id,
    post_id,
    interest,
    {{ dbt.listagg('matched_term', "', '", 'order by matched_term') }} as matched_terms,
    count(*) as terms_matched,
    posted_at,
    is_deleted
from matches
group by platform, account_id, post_id, interest, posted_at, is_deleted
