-- One row per (workspace's brand, influencer): how much of the influencer's audience and content falls
-- inside the brand's target, each component shown, null where the data is unavailable.
-- Formulas in brand_influencer_fit.yml.
--
-- Account-incremental (macros/incremental.sql, "Account-incremental gold"): a build scores again
-- the influencers whose data changed against every brand; the brands and their targets are part
-- of the inputs' fingerprint, so a brand added, changed or removed rescores every pair.
--
-- Joined by hashing only (hash_join_lookups): the planner cannot tell how many (brand, influencer)
-- rows the audience and interest aggregates keep (20 estimated, 15,000 found), and with the
-- brands read in key order from their unique index it merged on the brand alone, filtering
-- 150 million pairs by influencer (79 s at 10,000 influencers, 7.8 s hashed on all four keys).

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    indexes=[{'columns': ['platform', 'account_id']}],
    fingerprint_rows=['dim_brands', 'dim_brand_targets'],
    pre_hook=[
        "{{ follow_accounts(['caption_interest_scores']) }}",
        "{{ hash_join_lookups() }}",
    ],
) }}

{% set audience_dimensions = ['age', 'gender', 'country', 'city'] %}
{% set components = audience_dimensions + ['interest', 'size'] %}

with

brands as (

    select * from {{ ref('dim_brands') }}

),

targets as (

    select workspace_id, brand_name, dimension, {{ fold_text('value') }} as folded_value
    from {{ ref('dim_brand_targets') }}

),

stated as (

    select
        brands.workspace_id,
        brands.workspace,
        brands.brand_name,
        brands.followers_min,
        brands.followers_max,
        {% for dimension in components %}
        {% if dimension == 'size' %}
        (brands.followers_min is not null or brands.followers_max is not null) as states_size
        {% else %}
        exists (
            select 1 from targets
            where targets.workspace_id = brands.workspace_id
                and targets.brand_name = brands.brand_name
                and targets.dimension = '{{ dimension }}'
        ) as states_{{ dimension }},
        {% endif %}
        {% endfor %}
    from brands

),

influencers as (

    select platform, account_id, username, followers
    from {{ ref('dim_influencers') }}
    where true
    {{ only_changed_accounts('platform', 'account_id', ['caption_interest_scores']) }}

),

segments as (

    select platform, account_id, dimension, {{ fold_text('segment') }} as folded_segment, share
    from {{ ref('audience_segments') }}
    where dimension in ('{{ audience_dimensions | join("', '") }}')
    {{ only_changed_accounts('platform', 'account_id', ['caption_interest_scores']) }}

),

-- which dimensions each influencer has demographics for: one row per influencer, a column per
-- dimension (one join per pair instead of one per dimension)
measured_dimensions as (

    select
        platform,
        account_id,
        {% for dimension in audience_dimensions %}
        max(case when dimension = '{{ dimension }}' then 1 end) as measures_{{ dimension }}{{ "," if not loop.last }}
        {% endfor %}
    from segments
    group by platform, account_id

),

-- the share of the influencer's audience in the brand's stated segments: one row per (brand,
-- influencer), a column per dimension (null where no stated segment is in the audience)
inside as (

    select
        targets.workspace_id,
        targets.brand_name,
        segments.platform,
        segments.account_id,
        {% for dimension in audience_dimensions %}
        sum(case when segments.dimension = '{{ dimension }}' then segments.share end)
            as {{ dimension }}_share{{ "," if not loop.last }}
        {% endfor %}
    from targets
    inner join segments
        on segments.dimension = targets.dimension
        and segments.folded_segment = targets.folded_value
    group by
        targets.workspace_id,
        targets.brand_name,
        segments.platform,
        segments.account_id

),

live_interests as (

    select * from {{ ref('post_interests') }}
    where not is_deleted
    {{ only_changed_accounts('platform', 'account_id', ['caption_interest_scores']) }}

),

tagged_posts as (

    -- distinct posts first, then counted: two hash aggregates instead of a sort per influencer
    select platform, account_id, count(post_id) as posts_with_any_interest
    from (
        select distinct platform, account_id, post_id
        from live_interests
    ) as tagged
    group by platform, account_id

),

posts_in_target_interests as (

    select workspace_id, brand_name, platform, account_id, count(post_id) as posts_in_target
    from (
        select distinct
            targets.workspace_id,
            targets.brand_name,
            live_interests.platform,
            live_interests.account_id,
            live_interests.post_id
        from targets
        inner join live_interests
            on targets.dimension = 'interest'
            and live_interests.interest = targets.folded_value
    ) as in_target
    group by workspace_id, brand_name, platform, account_id

),

pairs as (

    select
        stated.workspace_id,
        stated.workspace,
        stated.brand_name,
        stated.followers_min,
        stated.followers_max,
        stated.states_age,
        stated.states_gender,
        stated.states_country,
        stated.states_city,
        stated.states_interest,
        stated.states_size,
        influencers.platform,
        influencers.account_id,
        influencers.username,
        influencers.followers
    from stated
    cross join influencers

),

components as (

    select
        pairs.*,
        {% for dimension in audience_dimensions %}
        case
            when pairs.states_{{ dimension }} and measured_dimensions.measures_{{ dimension }} is not null
                then round(coalesce(inside.{{ dimension }}_share, 0), 4)
        end as {{ dimension }}_share_in_target,
        {% endfor %}
        case
            when pairs.states_interest and tagged_posts.posts_with_any_interest > 0 then round(
                cast(coalesce(posts_in_target_interests.posts_in_target, 0)
                    as {{ type_exact_numeric() }})
                / tagged_posts.posts_with_any_interest,
                4
            )
        end as interest_overlap,
        case
            when not pairs.states_size or pairs.followers is null then null
            when pairs.followers_min is not null and pairs.followers < pairs.followers_min
                then round(
                    cast(pairs.followers as {{ type_exact_numeric() }}) / pairs.followers_min, 4
                )
            when pairs.followers_max is not null and pairs.followers > pairs.followers_max
                then round(
                    cast(pairs.followers_max as {{ type_exact_numeric() }}) / pairs.followers, 4
                )
            else cast(1 as {{ type_exact_numeric() }})
        end as size_fit,
        case
            when pairs.platform = 'tiktok' then 'TikTok gives no audience demographics'
            when pairs.followers < 100 then 'Instagram gives no demographics below 100 followers'
            else 'no demographics captured (a public creator shows none)'
        end as demographics_missing_reason
    from pairs
    left join measured_dimensions
        on measured_dimensions.platform = pairs.platform
        and measured_dimensions.account_id = pairs.account_id
    left join inside
        on inside.workspace_id = pairs.workspace_id
        and inside.brand_name = pairs.brand_name
        and inside.platform = pairs.platform
        and inside.account_id = pairs.account_id
    left join tagged_posts
        on tagged_posts.platform = pairs.platform
        and tagged_posts.account_id = pairs.account_id
    left join posts_in_target_interests
        on posts_in_target_interests.workspace_id = pairs.workspace_id
        and posts_in_target_interests.brand_name = pairs.brand_name
        and posts_in_target_interests.platform = pairs.platform
        and posts_in_target_interests.account_id = pairs.account_id

),

{% set component_columns = {
    'age': 'age_share_in_target',
    'gender': 'gender_share_in_target',
    'country': 'country_share_in_target',
    'city': 'city_share_in_target',
    'interest': 'interest_overlap',
    'size': 'size_fit',
} %}

counted as (

    select
        components.*,
        (
            {% for name, column in component_columns.items() %}
            case when states_{{ name }} then 1 else 0 end{{ " +" if not loop.last }}
            {% endfor %}
        ) as fit_components_stated,
        (
            {% for name, column in component_columns.items() %}
            case when {{ column }} is not null then 1 else 0 end{{ " +" if not loop.last }}
            {% endfor %}
        ) as fit_components_used,
        (
            {% for name, column in component_columns.items() %}
            coalesce({{ column }}, 0){{ " +" if not loop.last }}
            {% endfor %}
        ) as component_sum,
        (
            {% for name, column in component_columns.items() %}
            case
                when states_{{ name }} and {{ column }} is null then '{{ name }}: ' || {{
                    "demographics_missing_reason" if name in audience_dimensions
                    else ("'no live post with a known interest'" if name == 'interest'
                    else "'followers unknown'") }} || '; '
                else ''
            end{{ " ||" if not loop.last }}
            {% endfor %}
        ) as missing_text
    from components

)

select
    workspace_id,
    workspace,
    brand_name,
    platform,
    account_id,
    username,
    followers,
    case
        when fit_components_used > 0
            then round(cast(component_sum as {{ type_exact_numeric() }}) * 100 / fit_components_used, 2)
    end as fit_score,
    {% for column in component_columns.values() %}
    {{ column }},
    {% endfor %}
    fit_components_used,
    fit_components_stated,
    case
        when fit_components_stated > 0
            then round(cast(fit_components_used as {{ type_exact_numeric() }}) / fit_components_stated, 4)
    end as fit_confidence,
    case
        when fit_components_stated = 0 then 'the brand states no target'
        when missing_text <> '' then rtrim(missing_text, '; ')
    end as unavailable_components
from counted
