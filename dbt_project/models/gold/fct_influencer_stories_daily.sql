-- One row per (platform, account, UTC day) on which the account posted stories, from what the
-- stories listings caught while each story lived (24 h). Each story counts once, with its
-- latest insights (the last capture before it expired). Stories are not posts: nothing here
-- feeds fct_post_engagement, and a story that expired is not a deleted post.

with

sightings as (

    select * from {{ ref('stg_instagram__stories') }}

),

insights as (

    select * from {{ ref('stg_instagram__story_insights') }}

),

stories as (

    select
        account_id,
        story_id,
        min(posted_at) as posted_at,
        max(media_type) as media_type,
        min(captured_at) as first_seen_at,
        max(captured_at) as last_seen_at
    from sightings
    group by account_id, story_id

),

latest_insights as (

    select * from (
        select
            *,
            row_number() over (
                partition by account_id, story_id order by captured_at desc, record_id desc
            ) as recency_rank
        from insights
    ) as ranked
    where recency_rank = 1

),

joined as (

    select
        stories.account_id,
        stories.story_id,
        {{ utc_date('coalesce(stories.posted_at, stories.first_seen_at)') }} as day,
        stories.media_type,
        stories.last_seen_at,
        latest_insights.story_id is not null as has_insights,
        latest_insights.reach,
        latest_insights.views,
        latest_insights.replies,
        latest_insights.shares,
        latest_insights.navigation,
        latest_insights.captured_at as insights_captured_at
    from stories
    left join latest_insights
        on latest_insights.account_id = stories.account_id
        and latest_insights.story_id = stories.story_id

)

select
    'instagram' as platform,
    account_id,
    day,
    count(*) as stories_posted,
    sum(case when media_type = 'IMAGE' then 1 else 0 end) as image_stories,
    sum(case when media_type = 'VIDEO' then 1 else 0 end) as video_stories,
    sum(case when has_insights then 1 else 0 end) as stories_with_insights,
    sum(reach) as reach,
    sum(views) as views,
    sum(replies) as replies,
    sum(shares) as shares,
    sum(navigation) as navigation,
    cast(round(
        cast(sum(reach) as {{ type_exact_numeric() }})
            / nullif(sum(case when reach is not null then 1 else 0 end), 0),
        2
    ) as {{ type_exact_numeric() }}) as mean_reach_per_story,
    case
        when sum(case when has_insights then 1 else 0 end) = 0
            then 'no insights: fewer than five viewers, or none captured while the stories lived'
    end as insights_null_reason,
    max(last_seen_at) as captured_at
from joined
group by account_id, day
