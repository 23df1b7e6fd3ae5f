"""`analisa similar`: lookalike creators by what they post (the enrichment's content vectors)."""

from __future__ import annotations

from typing import Annotated

import psycopg
import typer
from rich.table import Table

from analisa.cli.runtime import console, fail, setup
from analisa.core.catalog import PLATFORMS


def similar(
    platform: Annotated[str, typer.Argument(help=f"One of: {', '.join(PLATFORMS)}.")],
    account_id: Annotated[str, typer.Argument(help="The creator's account id on that platform.")],
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, max=100, help="How many creators.")
    ] = 10,
) -> None:
    """The creators whose recent captions are nearest in meaning to this creator's (cosine
    similarity of their content vectors, 1 = the same), nearest first. Needs a pipeline run
    with the enrichment on (ANALISA_ENRICHMENT, on by default when its model is installed)."""
    from enrichment.lookalike import NoContentVector, similar

    if platform not in PLATFORMS:
        raise fail(f"unknown platform {platform!r} (expected one of {', '.join(PLATFORMS)})")
    _, url = setup()
    with psycopg.connect(url) as conn:
        try:
            found = similar(conn, platform, account_id, limit=limit)
        except NoContentVector as exc:
            raise fail(
                f"No lookalikes: {exc}. Run `analisa pipeline` with the enrichment on "
                "(ANALISA_ENRICHMENT=on) after the creator's posts are collected."
            ) from None
        names = _usernames(conn, found)
    if not found:
        console.print("No other creator has a content vector yet.")
        return
    table = Table(title=f"Creators posting like {platform}/{account_id}")
    for column in ("#", "platform", "account id", "username", "similarity", "posts used"):
        # ids are copied into other commands: folded onto more lines, never cut
        table.add_column(
            column,
            justify="right" if column in ("#", "similarity") else "left",
            overflow="fold",
        )
    for rank, match in enumerate(found, start=1):
        table.add_row(
            str(rank),
            match.platform,
            match.account_id,
            names.get((match.platform, match.account_id)) or "",
            f"{match.similarity:.4f}",
            str(match.posts_used),
        )
    console.print(table)


def _usernames(conn: psycopg.Connection, found) -> dict[tuple[str, str], str]:
    """Handles from gold, when gold is built (a lookalike needs no gold to be found)."""
    if not conn.execute("select to_regclass('gold.dim_influencers') is not null").fetchone()[0]:
        return {}
    rows = conn.execute(
        "select platform, account_id, username from gold.dim_influencers"
        " where (platform, account_id) in (select * from unnest(%s::text[], %s::text[]))",
        ([f.platform for f in found], [f.account_id for f in found]),
    ).fetchall()
    return {(r[0], r[1]): r[2] for r in rows}


def enrichment_progress(conn: psycopg.Connection) -> str | None:
    """One line when the newest enrichment version has not covered every caption yet (a run
    stops at its limits, ANALISA_ENRICHMENT_MAX_SECONDS and _MAX_PER_RUN, and the next runs go
    on); None when it has, or when the enrichment never ran."""
    row = conn.execute(
        "select model_version, captions_done, captions_total from silver.enrichment_versions"
        " where completed_at is null order by started_at desc, model_version desc limit 1"
    ).fetchone()
    newest_complete = conn.execute(
        "select max(started_at) from silver.enrichment_versions where completed_at is not null"
    ).fetchone()[0]
    if row is None:
        return None
    version, done, total = row
    serving = "" if newest_complete is None else "; the previous version serves until then"
    return (
        f"AI enrichment ({version}): {done:,} of {total:,} captions so far. A run embeds up to "
        f"its limits (ANALISA_ENRICHMENT_MAX_SECONDS, ANALISA_ENRICHMENT_MAX_PER_RUN); the next "
        f"runs go on{serving}."
    )


def enrichment_summary(conn: psycopg.Connection) -> str:
    """One line on what the AI enrichment added to gold (for `analisa demo`)."""
    from enrichment.lookalike import NoContentVector, similar
    from enrichment.versions import serving_version

    version = serving_version(conn)
    if version is None:
        return "AI enrichment: off (ANALISA_ENRICHMENT) or its model not installed"
    model, classifier, _ = version
    embedded, positive, neutral, negative, tagged = conn.execute(
        """
        select
            (select count(*) from silver.caption_sentiment where model_version = %(v)s),
            count(*) filter (where caption_sentiment = 'positive'),
            count(*) filter (where caption_sentiment = 'neutral'),
            count(*) filter (where caption_sentiment = 'negative'),
            (select count(distinct (platform, post_id)) from gold.post_interests
              where method = 'embedding')
        from gold.fct_post_engagement where caption_sentiment is not null
        """,
        {"v": classifier},
    ).fetchone()
    scored = max(1, positive + neutral + negative)
    line = (
        f"AI enrichment ({model}, {classifier}): {embedded} captions embedded, {tagged} posts "
        f"with model interests; sentiment {100 * positive / scored:.0f} % positive, "
        f"{100 * neutral / scored:.0f} % neutral, {100 * negative / scored:.0f} % negative"
    )
    first = conn.execute(
        "select platform, account_id from silver.influencer_content_vectors"
        " order by posts_used desc, platform, account_id limit 1"
    ).fetchone()
    if first:
        try:
            found = similar(conn, first[0], first[1], limit=1)
        except NoContentVector:
            found = []
        if found:
            names = _usernames(conn, [*found, *_as_found(first)])
            this = names.get((first[0], first[1]), first[1])
            that = names.get((found[0].platform, found[0].account_id), found[0].account_id)
            line += f"; posts most like {this}: {that} ({found[0].similarity:.2f})"
    return line


def _as_found(key: tuple[str, str]):
    from enrichment.lookalike import Lookalike

    return [Lookalike(key[0], key[1], similarity=0, posts_used=0)]
