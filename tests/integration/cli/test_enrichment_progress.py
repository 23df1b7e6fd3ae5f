"""What `analisa pipeline` says after a run that left captions to the enrichment's next runs."""

import psycopg

from analisa.cli.similar import enrichment_progress


def _version(conn, version, started, done, total, completed):
    conn.execute(
        "insert into silver.enrichment_versions (model, model_version, embedding_version,"
        " started_at, captions_done, captions_total, completed_at)"
        " values ('m', %s, 'e', %s, %s, %s, case when %s then now() end)",
        (version, started, done, total, completed),
    )


def test_a_version_still_filling_is_reported_with_its_count(db_url):
    with psycopg.connect(db_url, autocommit=True) as conn:
        assert enrichment_progress(conn) is None  # never ran

        _version(conn, "v1", "2026-11-01 10:00+00", 9984, 200000, False)
        assert enrichment_progress(conn) == (
            "AI enrichment (v1): 9,984 of 200,000 captions so far. A run embeds up to its "
            "limits (ANALISA_ENRICHMENT_MAX_SECONDS, ANALISA_ENRICHMENT_MAX_PER_RUN); the next "
            "runs go on."
        )

        conn.execute("update silver.enrichment_versions set completed_at = now()")
        assert enrichment_progress(conn) is None

        # a newer version fills while the complete one serves
        _version(conn, "v2", "2026-11-02 10:00+00", 512, 200100, False)
        assert enrichment_progress(conn) == (
            "AI enrichment (v2): 512 of 200,100 captions so far. A run embeds up to its "
            "limits (ANALISA_ENRICHMENT_MAX_SECONDS, ANALISA_ENRICHMENT_MAX_PER_RUN); the next "
            "runs go on; the previous version serves until then."
        )
