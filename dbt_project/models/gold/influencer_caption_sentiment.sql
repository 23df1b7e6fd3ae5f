-- One row per (platform, account) with scored captions: the share of its non-deleted posts'
-- captions the enrichment found positive, neutral and negative. Formulas in
-- influencer_caption_sentiment.yml.

with

scored as (

    select platform, account_id, caption_sentiment
    from {{ ref('fct_post_engagement') }}
    where not is_deleted and caption_sentiment is not null

)

select
    platform,
    account_id,
    count(*) as posts_scored,
    sum(case when caption_sentiment = 'positive' then 1 else 0 end) as posts_positive,
    sum(case when caption_sentiment = 'neutral' then 1 else 0 end) as posts_neutral,
    sum(case when caption_sentiment = 'negative' then 1 else 0 end) as posts_negative,
    round(
        sum(case when caption_sentiment = 'positive' then 1 else 0 end)
        / cast(count(*) as {{ type_exact_numeric() }}),
        4
    ) as positive_share,
    round(
        sum(case when caption_sentiment = 'neutral' then 1 else 0 end)
        / cast(count(*) as {{ type_exact_numeric() }}),
        4
    ) as neutral_share,
    round(
        sum(case when caption_sentiment = 'negative' then 1 else 0 end)
        / cast(count(*) as {{ type_exact_numeric() }}),
        4
    ) as negative_share
from scored
group by platform, account_id
