"""What the build commands print: the outcome of a Dagster run, then gold as a brand manager
reads it (influencers worth considering, by handle, in plain words) and each brand's best fits."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

import psycopg
from rich.table import Table

from analisa.cli.runtime import console
from analisa.core.catalog import PLATFORMS

# What a brand would consider at all: below these, a median engagement rate says little (a
# 31-follower account with 3 posts tops any ranking by rate).
MIN_FOLLOWERS = 1_000
MIN_POSTS = 5

QUALITY_SIGNAL_WORDS = {
    "follower_spike_flag": "follower spike",
    "engagement_vs_tier_flag": "engagement far from its size tier",
    "comment_like_ratio_flag": "odd comments per like",
    "views_per_follower_flag": "few views for its followers",
    "viral_share_flag": "many posts far above its usual",
}


def report_outcome(outcome) -> None:
    """Warnings, failed gates, errors and the assets a failed gate kept from running."""
    for warning in outcome.warnings:
        console.print(f"[yellow]warning[/] {warning}")
    for failed in outcome.failed_checks:
        console.print(f"[red]gate failed[/] {failed}")
    for error in outcome.errors:
        console.print(f"[red]error[/] {error}")
    if outcome.skipped:
        console.print(f"[red]not run[/] (upstream gate failed): {', '.join(outcome.skipped)}")


@dataclass(frozen=True)
class ConsideredInfluencer:
    """One line of the brand manager's list, every value already in words."""

    handle: str
    platform: str
    followers: str
    engagement: str
    growth: str
    top_interest: str
    quality: str
    sponsored: str


_CONSIDERED_SQL = f"""
    select d.platform, d.account_id, d.username, d.followers, d.median_engagement_rate,
           d.posts_in_engagement_window,
           d.followers_growth_7d_pct, d.followers_growth_30d_pct, d.growth_as_of,
           i.interest, i.share,
           q.quality_score, q.insufficient_data, q.insufficient_data_reason,
           {", ".join(f"q.{flag}" for flag in QUALITY_SIGNAL_WORDS)},
           d.sponsored_posts, d.posts_collected - d.posts_deleted as live_posts
    from gold.dim_influencers d
    left join gold.influencer_interests i
        on i.platform = d.platform and i.account_id = d.account_id and i.interest_rank = 1
    left join gold.influencer_quality q
        on q.platform = d.platform and q.account_id = d.account_id
    where d.followers >= %(min_followers)s and d.posts_in_engagement_window >= %(min_posts)s
    order by d.median_engagement_rate desc nulls last, d.followers desc, d.platform, d.account_id
    limit %(limit)s
"""


def _pct(value: Decimal) -> str:
    return f"{value:+.1f}%"


def _growth(growth_7d: Decimal | None, growth_30d: Decimal | None) -> str:
    if growth_30d is not None:
        return f"{_pct(growth_30d)} in 30 days"
    if growth_7d is not None:
        return f"{_pct(growth_7d)} in 7 days"
    return "under 7 days of history"


def _quality(score, insufficient, reason, flags: dict[str, bool | None]) -> str:
    if insufficient:
        return f"not judged yet ({reason})"
    raised = [words for flag, words in QUALITY_SIGNAL_WORDS.items() if flags.get(flag)]
    return f"{score:.0f}/100" + (f", flagged: {', '.join(raised)}" if raised else "")


def _sponsored(sponsored: int, live: int) -> str:
    if not live:
        return "no live post"
    if not sponsored:
        return f"none of {live} posts"
    return f"{sponsored} of {live} posts ({sponsored / live:.0%})"


def considered_influencers(
    conn: psycopg.Connection,
    min_followers: int = MIN_FOLLOWERS,
    min_posts: int = MIN_POSTS,
    limit: int = 10,
) -> list[ConsideredInfluencer]:
    """The influencers a brand would consider, best median engagement first, each by a name no
    other line shares (TikTok gives a display name, not a handle: equal ones on a platform get
    their account id's end)."""
    cur = conn.execute(
        _CONSIDERED_SQL,
        {"min_followers": min_followers, "min_posts": min_posts, "limit": limit},
    )
    names = [d.name for d in cur.description]
    rows = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def label(row) -> str:
        # the platform's own name for the account: Instagram's username, TikTok's display name
        # (its Display API gives no handle); the account id when none was ever captured
        return row["username"] or row["account_id"]

    seen = Counter((r["platform"], label(r)) for r in rows)
    result = []
    for row in rows:
        handle = label(row)
        if seen[(row["platform"], handle)] > 1:
            handle = f"{handle} (id …{row['account_id'][-6:]})"
        interest = (
            f"{row['interest']} ({row['share']:.0%} of posts)" if row["interest"] else "none found"
        )
        result.append(
            ConsideredInfluencer(
                handle=handle,
                platform=row["platform"],
                followers=f"{row['followers']:,}",
                engagement=(
                    "unknown"
                    if row["median_engagement_rate"] is None
                    else f"{row['median_engagement_rate']:.2f}%"
                ),
                growth=_growth(row["followers_growth_7d_pct"], row["followers_growth_30d_pct"]),
                top_interest=interest,
                quality=_quality(
                    row["quality_score"],
                    row["insufficient_data"],
                    row["insufficient_data_reason"],
                    {flag: row[flag] for flag in QUALITY_SIGNAL_WORDS},
                ),
                sponsored=_sponsored(row["sponsored_posts"], row["live_posts"]),
            )
        )
    return result


def best_fits(conn: psycopg.Connection, per_brand: int = 3) -> list[tuple[str, str, str, str]]:
    """(brand, influencer, score, what stood behind it) for each brand's best-fitting creators."""
    rows = conn.execute(
        """
        select case when workspace = 'default' then brand_name
                    else brand_name || ' (' || workspace || ')' end,
               username, account_id, fit_score, fit_components_used, fit_components_stated
        from (
            select f.*, row_number() over (
                -- a brand is its workspace and name: two workspaces' "Acme" rank apart
                partition by workspace_id, brand_name
                -- a score on the whole target before one on a part of it
                order by fit_confidence desc nulls last, fit_score desc nulls last, account_id
            ) as fit_rank
            from gold.brand_influencer_fit f
            where fit_score is not null
        ) ranked
        where fit_rank <= %s
        order by workspace <> 'default', workspace, brand_name, fit_rank
        """,
        (per_brand,),
    ).fetchall()
    return [
        (
            brand,
            username or account_id,
            f"{score:.0f}/100",
            f"{used} of {stated} parts of the target known",
        )
        for brand, username, account_id, score, used, stated in rows
    ]


def print_summary(url: str) -> None:
    """Counts per platform from bronze to gold, the influencers worth considering, best fits."""
    with psycopg.connect(url) as conn:
        counts = conn.execute(
            """
            select p.platform,
                (select count(*) from gold.dim_influencers d where d.platform = p.platform),
                (select count(*) from gold.fct_post_engagement f where f.platform = p.platform),
                (select count(*) from gold.fct_post_engagement f
                  where f.platform = p.platform and f.is_deleted),
                (select count(*) from gold.audience_segments a where a.platform = p.platform),
                (select count(*) from bronze.raw_records r where r.platform = p.platform),
                (select count(*) from bronze.raw_records r
                  where r.platform = p.platform and r.parse_error is not null)
            from unnest(%s::text[]) as p(platform) order by 1
            """,
            (list(PLATFORMS),),
        ).fetchall()
        considered = considered_influencers(conn)
        left_out = conn.execute(
            "select count(*) from gold.dim_influencers where not (coalesce(followers, 0) >= %s "
            "and posts_in_engagement_window >= %s)",
            (MIN_FOLLOWERS, MIN_POSTS),
        ).fetchone()[0]
        fits = best_fits(conn)
    table = Table(title="Gold, per platform")
    for col in (
        "platform",
        "influencers",
        "posts",
        "deleted",
        "audience rows",
        "bronze records",
        "malformed kept",
    ):
        table.add_column(col, justify="right" if col != "platform" else "left")
    for row in counts:
        table.add_row(*(str(v) for v in row))
    console.print(table)

    top = Table(
        title=f"Influencers a brand would consider (at least {MIN_FOLLOWERS:,} followers and "
        f"{MIN_POSTS} recent posts), best median engagement first"
    )
    for col in (
        "influencer",
        "platform",
        "followers",
        "engagement",
        "growth",
        "top interest",
        "quality",
        "sponsored",
    ):
        top.add_column(col, justify="right" if col in ("followers", "engagement") else "left")
    for c in considered:
        top.add_row(
            c.handle,
            c.platform,
            c.followers,
            c.engagement,
            c.growth,
            c.top_interest,
            c.quality,
            c.sponsored,
        )
    console.print(top)
    if left_out:
        console.print(
            f"{left_out} smaller or newer accounts left out (fewer than {MIN_FOLLOWERS:,} "
            f"followers or {MIN_POSTS} posts); all are in gold.dim_influencers."
        )
    if fits:
        fit_table = Table(title="Best fits per brand (gold.brand_influencer_fit)")
        for col in ("brand", "influencer", "fit", "based on"):
            fit_table.add_column(col)
        for row in fits:
            fit_table.add_row(*row)
        console.print(fit_table)
