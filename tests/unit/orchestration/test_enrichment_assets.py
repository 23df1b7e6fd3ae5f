"""The enrichment sits between silver and gold in the asset graph: it reads int_posts, and the
gold models that read its tables wait for it in the same run."""

import dagster as dg

from orchestration.definitions import build_definitions
from orchestration.defs.enrichment.assets import ENRICHMENT_KEYS

graph = build_definitions().resolve_asset_graph()


def _parents(*path: str) -> set[str]:
    return {k.to_user_string() for k in graph.get(dg.AssetKey(list(path))).parent_keys}


def test_the_enrichment_reads_silver_captions():
    for key in ENRICHMENT_KEYS:
        assert _parents(*key.path) == {"silver/int_posts"}


def test_gold_reads_the_enrichment_tables_as_sources():
    for table in ("post_interests__instagram", "post_interests__tiktok"):
        assert {"silver/caption_interest_scores", "silver/enrichment_versions"} <= _parents(
            "gold", table
        )
    assert {"silver/caption_sentiment", "silver/enrichment_versions"} <= _parents(
        "gold", "fct_post_engagement"
    )
    assert _parents("gold", "influencer_caption_sentiment") == {"gold/fct_post_engagement"}


def test_every_build_job_runs_the_enrichment():
    defs = build_definitions()
    for name in ("collect_and_build", "build_from_bronze"):
        job = defs.resolve_job_def(name)
        assert "caption_enrichment" in {node.name for node in job.graph.node_defs}, name
