"""Label any captions with the enrichment's model, outside the pipeline (a notebook, an
evaluation on another labelled set): the same embedder, descriptions and thresholds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from enrichment.labels import Classifier
from enrichment.model import default_embedder
from enrichment.pipeline import BATCH


@dataclass(frozen=True)
class CaptionLabels:
    interests: list[tuple[str, float]]
    """At or above the threshold, best first (what gold.post_interests gets)."""
    ranked_interests: list[str]
    """Every interest of the taxonomy, most likely first (for top-k evaluation)."""
    sentiment: str
    sentiment_score: float


@cache
def default_classifier() -> Classifier:
    return Classifier.for_embedder(default_embedder())


def classify(texts: Sequence[str]) -> list[CaptionLabels]:
    """Interests and sentiment of each text, in order, embedded BATCH at a time."""
    classifier, embedder = default_classifier(), default_embedder()
    labels: list[CaptionLabels] = []
    for start in range(0, len(texts), BATCH):
        vectors = embedder.embed(list(texts[start : start + BATCH]))
        for found, ranked, (sentiment, score) in zip(
            classifier.interests_of(vectors),
            classifier.ranked_interests(vectors),
            classifier.sentiment_of(vectors),
            strict=True,
        ):
            labels.append(CaptionLabels(found, ranked, sentiment, score))
    return labels
