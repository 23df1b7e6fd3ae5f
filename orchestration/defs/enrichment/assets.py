"""The AI enrichment as Dagster assets, between silver and gold: it reads silver captions
(int_posts, after the silver gate) and writes its own tables, which gold's dbt models read as
sources, so the gold step waits for it in the same run. Switched off (ANALISA_ENRICHMENT=off, or
the model library absent) it materialises nothing new and gold builds without model rows; if it
fails, the failure is logged and gold builds on the version serving so far."""

import dagster as dg

from enrichment.switch import enrichment_enabled
from orchestration.lib.resources import AnalisaResource

# The tables the enrichment writes (migration 014_enrichment.sql); gold reads them as the dbt
# source `silver` (models/gold/_enrichment__sources.yml), hence these keys.
ENRICHMENT_TABLES = (
    "caption_embeddings",
    "caption_interest_scores",
    "caption_sentiment",
    "enrichment_versions",
    "influencer_content_vectors",
)
ENRICHMENT_KEYS = [dg.AssetKey(["silver", table]) for table in ENRICHMENT_TABLES]
CAPTIONS = dg.AssetKey(["silver", "int_posts"])


@dg.multi_asset(
    name="caption_enrichment",
    specs=[
        dg.AssetSpec(
            key,
            deps=[CAPTIONS],
            group_name="enrichment",
            kinds={"python", "postgres"},
            description=f"silver.{key.path[-1]}: written by the caption enrichment "
            "(enrichment/), keyed by model and version.",
        )
        for key in ENRICHMENT_KEYS
    ],
    description="Embeds new or edited captions with the packaged multilingual model, scores "
    "interests and sentiment, refreshes influencers' content vectors (incremental, in batches).",
)
def caption_enrichment(context: dg.AssetExecutionContext, analisa: AnalisaResource):
    settings = analisa.settings()
    if not enrichment_enabled(settings):
        context.log.info("enrichment is off: gold builds without model rows")
        for key in ENRICHMENT_KEYS:
            yield dg.MaterializeResult(asset_key=key, metadata={"enrichment": "off"})
        return

    from enrichment.labels import Classifier
    from enrichment.model import default_embedder
    from enrichment.pipeline import run

    try:
        embedder = default_embedder()
        classifier = Classifier.for_embedder(embedder)
        stats = run(
            analisa.database_url(),
            embedder,
            classifier,
            max_captions=settings.enrichment_max_per_run or None,
            max_seconds=settings.enrichment_max_seconds or None,
            progress=lambda done: context.log.debug(f"{done} captions embedded"),
        )
    except Exception as exc:
        # gold must not depend on the AI module: it builds on the version serving so far (the
        # batches committed before the failure are kept, and the next run resumes from them)
        context.log.error(f"enrichment failed, gold keeps the serving version: {exc!r}")
        for key in ENRICHMENT_KEYS:
            yield dg.MaterializeResult(
                asset_key=key, metadata={"enrichment": "failed", "error": repr(exc)[:500]}
            )
        return
    context.log.info(
        f"enrichment {stats.classifier_version}: {stats.embedded} embedded, {stats.scored} "
        f"scored, {stats.accounts} influencer vectors, {stats.captions_done}/"
        f"{stats.captions_total} captions covered"
    )
    if stats.stopped_by:
        setting = {
            "max_captions": f"ANALISA_ENRICHMENT_MAX_PER_RUN={settings.enrichment_max_per_run}",
            "max_seconds": f"ANALISA_ENRICHMENT_MAX_SECONDS={settings.enrichment_max_seconds}",
        }[stats.stopped_by]
        context.log.info(
            f"enrichment stopped at its limit for one run ({setting}): "
            f"{stats.captions_total - stats.captions_done} captions are left for the next runs; "
            "gold is built now with the captions enriched so far"
        )
    metadata = {"enrichment": "on", **stats.as_metadata()}
    for key in ENRICHMENT_KEYS:
        yield dg.MaterializeResult(asset_key=key, metadata=metadata)
