"""What the build commands print: the outcome of a Dagster run and the gold tables it left."""

from __future__ import annotations

import psycopg
from rich.table import Table

from analisa.cli.runtime import console
from analisa.core.catalog import PLATFORMS


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


def print_summary(url: str) -> None:
    """Counts per platform from bronze to gold, then the top influencers."""
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
        top = conn.execute(
            """
            select platform, coalesce(username, account_id), followers, median_engagement_rate,
                   mean_engagement_rate, posts_collected
            from gold.dim_influencers
            order by median_engagement_rate desc nulls last, platform, account_id limit 10
            """
        ).fetchall()
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
    top_table = Table(
        title="Top influencers by median engagement rate (last 30 posts, % of followers)"
    )
    for col in ("platform", "influencer", "followers", "median %", "mean %", "posts"):
        top_table.add_column(col, justify="left" if col in ("platform", "influencer") else "right")
    for platform, name, followers, median, mean, posts in top:
        top_table.add_row(
            platform,
            name,
            "unknown" if followers is None else f"{followers:,}",
            "—" if median is None else f"{median:.2f}",
            "—" if mean is None else f"{mean:.2f}",
            str(posts),
        )
    console.print(top_table)
