"""Incremental enrichment of silver captions, in bounded batches.

1. embed: captions without a vector of this model version, or whose text changed since
   (caption_hash = md5 of the text), are embedded BATCH at a time, each batch committed;
2. score: vectors of this model version without interests and sentiment of this classifier
   version (new vectors, or new label descriptions) are scored, batch by batch;
3. account vectors: each influencer's content vector, the mean of the embeddings of its
   RECENT_POSTS latest live posts less the centre of all creators, normalised;
4. the version's progress: completed_at is set the first time every caption is covered.

A new model version therefore fills its own rows while gold keeps reading the version that
completed before it (silver.enrichment_versions); `max_captions` and `max_seconds` spread the
work over runs. Memory is one batch of captions and vectors, whatever the number of posts."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import psycopg

if TYPE_CHECKING:
    from enrichment.labels import Classifier
    from enrichment.model import Embedder

BATCH = 256
# what a run's time budget is measured on (max_seconds)
_clock: Callable[[], float] = time.monotonic
# The same window as the engagement metrics: an influencer's last 30 live posts.
RECENT_POSTS = 30

_CURRENT_CAPTIONS = """
    select platform, account_id, post_id, caption, md5(caption) as caption_hash, posted_at,
           is_deleted
    from silver.int_posts
    where caption is not null and btrim(caption) <> ''
"""

_TO_EMBED = f"""
    select c.platform, c.account_id, c.post_id, c.caption, c.caption_hash
    from ({_CURRENT_CAPTIONS}) c
    left join silver.caption_embeddings e
        on e.platform = c.platform and e.post_id = c.post_id
        and e.model = %(model)s and e.model_version = %(version)s
        and e.caption_hash = c.caption_hash
    where e.post_id is null
    order by c.platform, c.post_id
"""

_TO_SCORE = f"""
    select e.platform, e.account_id, e.post_id, e.caption_hash, e.embedding,
           exists (
               select 1 from silver.caption_interest_scores i
               where i.platform = e.platform and i.post_id = e.post_id
                 and i.model = e.model and i.model_version = %(classifier)s
           ) as scored_before
    from silver.caption_embeddings e
    inner join ({_CURRENT_CAPTIONS}) c
        on c.platform = e.platform and c.post_id = e.post_id and c.caption_hash = e.caption_hash
    left join silver.caption_sentiment s
        on s.platform = e.platform and s.post_id = e.post_id
        and s.model = e.model and s.model_version = %(classifier)s
        and s.caption_hash = e.caption_hash
    where e.model = %(model)s and e.model_version = %(version)s and s.post_id is null
    order by e.platform, e.post_id
"""

_RECENT_VECTORS = f"""
    select platform, account_id, embedding from (
        select c.platform, c.account_id, e.embedding,
               row_number() over (
                   partition by c.platform, c.account_id
                   order by c.posted_at desc nulls last, c.post_id desc
               ) as recency
        from ({_CURRENT_CAPTIONS}) c
        inner join silver.caption_embeddings e
            on e.platform = c.platform and e.post_id = c.post_id
            and e.caption_hash = c.caption_hash
            and e.model = %(model)s and e.model_version = %(version)s
        where not c.is_deleted
    ) recent
    where recency <= {RECENT_POSTS}
    order by platform, account_id
"""


@dataclass
class EnrichmentStats:
    model: str
    model_version: str
    classifier_version: str
    embedded: int = 0
    scored: int = 0
    accounts: int = 0
    captions_total: int = 0
    captions_done: int = 0
    complete: bool = False
    # why embedding stopped before every pending caption had its vector: "max_captions" or
    # "max_seconds" (the next runs go on from there); None when nothing was left
    stopped_by: str | None = None
    seconds: dict[str, float] = field(default_factory=dict)

    def as_metadata(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if k != "seconds" and v is not None} | {
            f"seconds_{k}": round(v, 2) for k, v in self.seconds.items()
        }


def _batches(conn: psycopg.Connection, sql: str, params: dict, size: int) -> Iterator[list]:
    """Rows of `sql` `size` at a time through a server-side cursor (bounded memory)."""
    with conn.cursor(name=f"enrichment_{time.monotonic_ns()}", binary=True) as cur:
        cur.itersize = size
        cur.execute(sql, params)
        while rows := cur.fetchmany(size):
            yield rows


class _Budget:
    """Caps on one run's embedding: captions (`limit`) and seconds (`seconds`, on `clock`).
    A batch is started only while both hold, and the first always is, so every run moves a
    backlog on; the batch that crosses the time is finished and committed, never cut."""

    def __init__(
        self,
        limit: int | None,
        seconds: float | None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.left = limit
        self.seconds = seconds
        self.clock = clock or _clock
        self.started = self.clock()
        self.batches = 0
        self.stopped_by: str | None = None

    def take(self, batches: Iterator[list]) -> Iterator[list]:
        for rows in batches:
            if self.left is not None and self.left <= 0:
                self.stopped_by = "max_captions"
                return
            if self.batches and self.seconds and self.clock() - self.started >= self.seconds:
                self.stopped_by = "max_seconds"
                return
            if self.left is not None:
                if len(rows) > self.left:
                    rows = rows[: self.left]
                    self.stopped_by = "max_captions"
                self.left -= len(rows)
            self.batches += 1
            yield rows


def embed_pending(
    read: psycopg.Connection,
    write: psycopg.Connection,
    embedder: Embedder,
    *,
    batch: int = BATCH,
    progress: Callable[[int], None] | None = None,
    budget: _Budget | None = None,
) -> int:
    params = {"model": embedder.model, "version": embedder.version}
    budget = budget or _Budget(None, None)
    done = 0
    for rows in budget.take(_batches(read, _TO_EMBED, params, batch)):
        vectors = embedder.embed([r[3] for r in rows])
        with write.transaction(), write.cursor() as cur:
            cur.executemany(
                "insert into silver.caption_embeddings (platform, post_id, account_id, model,"
                " model_version, caption_hash, embedding) values (%s, %s, %s, %s, %s, %s, %s)"
                " on conflict (platform, post_id, model, model_version) do update set"
                " account_id = excluded.account_id, caption_hash = excluded.caption_hash,"
                " embedding = excluded.embedding, embedded_at = now()",
                [
                    (r[0], r[2], r[1], embedder.model, embedder.version, r[4], v.tolist())
                    for r, v in zip(rows, vectors, strict=True)
                ],
            )
        done += len(rows)
        if progress:
            progress(done)
    return done


def score_pending(
    read: psycopg.Connection,
    write: psycopg.Connection,
    embedder: Embedder,
    classifier: Classifier,
    *,
    batch: int = BATCH,
) -> int:
    import numpy as np

    params = {
        "model": embedder.model,
        "version": embedder.version,
        "classifier": classifier.version,
    }
    key = (embedder.model, classifier.version)
    done = 0
    for rows in _batches(read, _TO_SCORE, params, batch):
        vectors = np.asarray([r[4] for r in rows], dtype=np.float32)
        interests = classifier.interests_of(vectors)
        sentiments = classifier.sentiment_of(vectors)
        found = [
            (r[0], r[2], r[1], r[3], name, round(score, 4), rank)
            for r, labels in zip(rows, interests, strict=True)
            for rank, (name, score) in enumerate(labels, start=1)
        ]
        # one statement per table and batch: arrays of the batch's values, unnested
        # an edited caption's earlier interests go (new captions, the usual case, have none)
        again = [r for r in rows if r[5]]
        with write.transaction():
            if again:
                write.execute(
                    "delete from silver.caption_interest_scores s"
                    " using unnest(%s::text[], %s::text[]) as d(platform, post_id)"
                    " where s.platform = d.platform and s.post_id = d.post_id"
                    " and s.model = %s and s.model_version = %s",
                    ([r[0] for r in again], [r[2] for r in again], *key),
                )
            write.execute(
                "insert into silver.caption_interest_scores (platform, post_id, account_id,"
                " model, model_version, caption_hash, interest, score, interest_rank)"
                " select f.platform, f.post_id, f.account_id, %s, %s, f.caption_hash,"
                " f.interest, f.score, f.interest_rank from unnest(%s::text[], %s::text[],"
                " %s::text[], %s::text[], %s::text[], %s::numeric[], %s::smallint[])"
                " as f(platform, post_id, account_id, caption_hash, interest, score,"
                " interest_rank)",
                (*key, *([f[i] for f in found] for i in range(7))),
            )
            write.execute(
                "insert into silver.caption_sentiment (platform, post_id, account_id, model,"
                " model_version, caption_hash, sentiment, score)"
                " select f.platform, f.post_id, f.account_id, %s, %s, f.caption_hash,"
                " f.sentiment, f.score from unnest(%s::text[], %s::text[], %s::text[],"
                " %s::text[], %s::text[], %s::numeric[])"
                " as f(platform, post_id, account_id, caption_hash, sentiment, score)"
                " on conflict (platform, post_id, model, model_version) do update set"
                " account_id = excluded.account_id, caption_hash = excluded.caption_hash,"
                " sentiment = excluded.sentiment, score = excluded.score, scored_at = now(),"
                " scored_xid = excluded.scored_xid",
                (
                    *key,
                    [r[0] for r in rows],
                    [r[2] for r in rows],
                    [r[1] for r in rows],
                    [r[3] for r in rows],
                    [label for label, _ in sentiments],
                    [max(round(score, 4), 0.0001) for _, score in sentiments],
                ),
            )
        done += len(rows)
    return done


def has_pgvector_column(conn: psycopg.Connection) -> bool:
    return (
        conn.execute(
            "select 1 from information_schema.columns where table_schema = 'silver'"
            " and table_name = 'influencer_content_vectors'"
            " and column_name = 'content_vector_pgv'"
        ).fetchone()
        is not None
    )


def _account_means(read: psycopg.Connection, params: dict) -> Iterator[tuple[str, str, int, Any]]:
    """(platform, account_id, posts used, mean of its recent caption vectors), one at a time."""
    import numpy as np

    rows = itertools.chain.from_iterable(_batches(read, _RECENT_VECTORS, params, 4096))
    for (platform, account_id), group in itertools.groupby(rows, key=lambda r: r[:2]):
        vectors = np.asarray([r[2] for r in group], dtype=np.float32)
        yield platform, account_id, len(vectors), vectors.mean(axis=0)


def refresh_account_vectors(
    read: psycopg.Connection, write: psycopg.Connection, embedder: Embedder, *, batch: int = 200
) -> int:
    """Every influencer's content vector for this model version, rebuilt from its recent
    captions (deletions and new posts move it); influencers with no live caption lose theirs.

    e5's vectors share a large common component (any two captions sit at cosine 0.7–0.9), which
    an average over 30 captions only strengthens: creators in the same language would all look
    alike. So the vector is the creator's mean less the centre of all creators' means (each
    creator weighing the same), normalised: what sets this creator apart from the others."""
    import numpy as np

    params = {"model": embedder.model, "version": embedder.version}
    total, creators = None, 0
    for *_, mean in _account_means(read, params):
        total = mean.astype(np.float64) if total is None else total + mean
        creators += 1
    read.commit()
    centre = (total / creators).astype(np.float32) if creators else None

    pgvector = has_pgvector_column(write) and embedder.dimensions == 384
    columns = "platform, account_id, model, model_version, posts_used, content_vector"
    values = "%s, %s, %s, %s, %s, %s"
    if pgvector:
        columns += ", content_vector_pgv"
        values += ", %s::real[]::vector"
    accounts: list[tuple] = []
    seen = 0
    with write.transaction():
        write.execute(
            "create temporary table refreshed_vectors (platform text, account_id text)"
            " on commit drop"
        )

        def flush() -> None:
            with write.cursor() as cur:
                cur.executemany(
                    f"insert into silver.influencer_content_vectors ({columns}) values ({values})"
                    " on conflict (platform, account_id, model, model_version) do update set"
                    " posts_used = excluded.posts_used, content_vector = excluded.content_vector,"
                    + (" content_vector_pgv = excluded.content_vector_pgv," if pgvector else "")
                    + " computed_at = now()",
                    accounts,
                )
                cur.executemany(
                    "insert into refreshed_vectors values (%s, %s)", [a[:2] for a in accounts]
                )
            accounts.clear()

        for platform, account_id, used, mean in _account_means(read, params):
            distinct = mean - centre
            norm = float(np.linalg.norm(distinct))
            if norm < 1e-6:  # the only creator, or one exactly at the centre: nothing to compare
                continue
            vector = (distinct / norm).tolist()
            row = (platform, account_id, embedder.model, embedder.version, used, vector)
            accounts.append(row + ((vector,) if pgvector else ()))
            seen += 1
            if len(accounts) >= batch:
                flush()
        flush()
        write.execute(
            "delete from silver.influencer_content_vectors v where model = %s"
            " and model_version = %s and not exists (select 1 from refreshed_vectors r"
            " where r.platform = v.platform and r.account_id = v.account_id)",
            (embedder.model, embedder.version),
        )
    return seen


def record_progress(
    conn: psycopg.Connection, embedder: Embedder, classifier: Classifier
) -> tuple[int, int, bool]:
    """How many current captions this classifier version covers; completed_at is set the first
    time it covers them all, and stays (new posts arrive between runs)."""
    total, done = conn.execute(
        f"""
        select count(*), count(s.post_id)
        from ({_CURRENT_CAPTIONS}) c
        left join silver.caption_sentiment s
            on s.platform = c.platform and s.post_id = c.post_id
            and s.caption_hash = c.caption_hash
            and s.model = %(model)s and s.model_version = %(classifier)s
        """,
        {"model": embedder.model, "classifier": classifier.version},
    ).fetchone()
    complete = done == total
    with conn.transaction():
        conn.execute(
            "insert into silver.enrichment_versions (model, model_version, embedding_version,"
            " captions_total, captions_done, completed_at) values (%s, %s, %s, %s, %s,"
            " case when %s then now() end)"
            " on conflict (model, model_version) do update set"
            " captions_total = excluded.captions_total, captions_done = excluded.captions_done,"
            " completed_at = coalesce(silver.enrichment_versions.completed_at,"
            " excluded.completed_at), updated_at = now()",
            (embedder.model, classifier.version, embedder.version, total, done, complete),
        )
    return total, done, complete


def run(
    url: str,
    embedder: Embedder,
    classifier: Classifier,
    *,
    batch: int = BATCH,
    max_captions: int | None = None,
    max_seconds: float | None = None,
    progress: Callable[[int], None] | None = None,
    clock: Callable[[], float] | None = None,
) -> EnrichmentStats:
    """One run: embed what is pending (at most `max_captions` captions, and no new batch after
    `max_seconds` of embedding: a large backlog then fills over several runs while gold is built
    after each), score the new vectors, refresh the content vectors, record the progress."""
    stats = EnrichmentStats(embedder.model, embedder.version, classifier.version)
    budget = _Budget(max_captions, max_seconds, clock)
    with psycopg.connect(url) as read, psycopg.connect(url, autocommit=True) as write:
        # the reads are consumed whole, batch by batch: plan them for all rows (hash joins),
        # not for the first tenth a cursor is assumed to need (nested loops over unindexed
        # dbt tables took minutes at 20,000 captions)
        read.execute("set cursor_tuple_fraction = 1.0")
        for step, work in (
            (
                "embed",
                lambda: embed_pending(
                    read, write, embedder, batch=batch, progress=progress, budget=budget
                ),
            ),
            ("score", lambda: score_pending(read, write, embedder, classifier, batch=batch)),
            ("accounts", lambda: refresh_account_vectors(read, write, embedder)),
        ):
            started = time.perf_counter()
            setattr(stats, {"embed": "embedded", "score": "scored"}.get(step, step), work())
            read.commit()
            stats.seconds[step] = time.perf_counter() - started
        stats.captions_total, stats.captions_done, stats.complete = record_progress(
            write, embedder, classifier
        )
    stats.stopped_by = budget.stopped_by
    return stats
