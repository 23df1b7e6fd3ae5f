{#-
    The first half of the deletion rule, written once: for each post of `sightings` (a relation
    or CTE of platform, account_id, post_id, last_seen_at: the post's latest listing capture),
    the complete listing rounds of its account that started after it was last seen, so that
    complete listing no longer holds it. `complete_rounds`: the complete rows of
    int_listing_rounds. A post with no such round has no row.

    int_post_listing_gaps keeps it for every post (int_posts_to_probe reads the latest such round
    to choose what the collector probes); int_posts computes it for the posts with a "not found"
    answer only (the second half of the rule), so it need not wait for int_post_listing_gaps.
-#}
{% macro complete_rounds_without_post(sightings, complete_rounds) -%}
    select
        sightings.platform,
        sightings.account_id,
        sightings.post_id,
        sightings.last_seen_at,
        min(complete_rounds.ended_at) as first_listing_ended_at,
        max(complete_rounds.ended_at) as latest_listing_ended_at,
        count(*) as complete_rounds_without_post
    from {{ sightings }} as sightings
    inner join {{ complete_rounds }} as complete_rounds
        on complete_rounds.platform = sightings.platform
        and complete_rounds.account_id = sightings.account_id
        and complete_rounds.started_at > sightings.last_seen_at
    group by sightings.platform, sightings.account_id, sightings.post_id, sightings.last_seen_at
{%- endmacro %}
