"""Lookalike creators: the influencers whose content vectors (the mean of their recent caption
embeddings less the centre of all creators, normalised; enrichment/pipeline.py) are nearest by
cosine similarity to a given influencer's.

Two paths, one answer: with pgvector (the column content_vector_pgv and its HNSW index, made by
migration 014 where the server has the extension) the index finds the candidates; without it an
exact scan computes every dot product in SQL. Vectors are unit length, so the dot product is the
cosine. Both order by similarity rounded to 4 decimals, then platform and account id, and the
pgvector path re-scores its candidates exactly, so ties and float noise cannot reorder them.
Needs no model library: the CLI and the API call it with the enrichment switched off."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import psycopg
from psycopg.rows import tuple_row

from enrichment.versions import serving_version

MAX_LIMIT = 100
# Candidates the HNSW index is asked for, per result wanted: it filters by model version after
# the index scan, so it needs headroom (pgvector's iterative scan adds more where it exists).
CANDIDATE_FACTOR = 4
MIN_CANDIDATES = 100


class NoContentVector(LookupError):
    """The influencer has no content vector (unknown, no captions, or enrichment not run)."""


@dataclass(frozen=True)
class Lookalike:
    platform: str
    account_id: str
    similarity: Decimal
    posts_used: int


_EXACT = """
    select v.platform, v.account_id,
           round(cast(sum(cast(x as double precision) * y) as numeric), 4) as similarity,
           v.posts_used
    from silver.influencer_content_vectors v
    cross join lateral unnest(v.content_vector, %(query)s::real[]) as pair(x, y)
    where v.model = %(model)s and v.model_version = %(version)s
      and (v.platform, v.account_id) <> (%(platform)s, %(account_id)s)
      {candidates}
    group by v.platform, v.account_id, v.posts_used
    order by similarity desc, v.platform, v.account_id
    limit %(limit)s
"""

_HNSW_CANDIDATES = """
    select v.platform, v.account_id
    from silver.influencer_content_vectors v
    where v.model = %(model)s and v.model_version = %(version)s
      and v.content_vector_pgv is not null
    order by v.content_vector_pgv <=> %(query)s::real[]::vector
    limit %(candidates)s
"""


def uses_pgvector(conn: psycopg.Connection | psycopg.Cursor) -> bool:
    return (
        conn.execute(
            "select 1 from information_schema.columns where table_schema = 'silver'"
            " and table_name = 'influencer_content_vectors'"
            " and column_name = 'content_vector_pgv'"
        ).fetchone()
        is not None
    )


def similar(
    conn: psycopg.Connection,
    platform: str,
    account_id: str,
    *,
    limit: int = 10,
    exact: bool | None = None,
    among: str | None = None,
    among_params: dict | None = None,
) -> list[Lookalike]:
    """The `limit` nearest influencers to (platform, account_id), nearest first.

    exact: None picks pgvector when present, True forces the scan, False requires pgvector.
    among: optional SQL condition on `v` (its platform, account_id) restricting the
    candidates, built by the caller from constants; `among_params` are its bound values.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}")
    cur = conn.cursor(row_factory=tuple_row)  # whatever rows the caller's connection makes
    version = serving_version(conn)
    if version is None:
        raise NoContentVector("no enrichment version has run yet")
    model, _, embedding_version = version
    row = cur.execute(
        "select content_vector from silver.influencer_content_vectors where platform = %s"
        " and account_id = %s and model = %s and model_version = %s",
        (platform, account_id, model, embedding_version),
    ).fetchone()
    if row is None:
        raise NoContentVector(f"{platform}/{account_id} has no content vector")
    params = {
        "query": row[0],
        "model": model,
        "version": embedding_version,
        "platform": platform,
        "account_id": account_id,
        "limit": limit,
        **(among_params or {}),
    }
    pgvector = uses_pgvector(cur)
    if exact is False and not pgvector:
        raise RuntimeError("pgvector is not installed in this database")
    restrict = f" and ({among})" if among else ""
    # a restricted set (a workspace's lists) is small: scanned exactly
    if pgvector and not exact and not among:
        params["candidates"] = max(MIN_CANDIDATES, limit * CANDIDATE_FACTOR)
        with conn.transaction():
            cur.execute("set local hnsw.ef_search = 400")
            if cur.execute(
                "select 1 from pg_settings where name = 'hnsw.iterative_scan'"
            ).fetchone():
                cur.execute("set local hnsw.iterative_scan = relaxed_order")
            rows = cur.execute(
                _EXACT.format(candidates=f"and (v.platform, v.account_id) in ({_HNSW_CANDIDATES})"),
                params,
            ).fetchall()
    else:
        rows = cur.execute(_EXACT.format(candidates=restrict), params).fetchall()
    return [Lookalike(r[0], r[1], r[2], r[3]) for r in rows]
