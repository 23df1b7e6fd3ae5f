"""Zero-shot labels from descriptions: interests of the taxonomy and caption sentiment.

Each label has several short descriptions in Portuguese and English (labels/*.json, written
for generality, never fitted on labelled captions). A caption's similarity to a label is its
mean cosine to the label's descriptions, less the label's background (its mean cosine to the
other labels' descriptions: broad labels such as lifestyle otherwise pull every caption), and
the scores are a softmax over the labels, so they lie in 0–1 and sum to 1 per caption."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from enrichment.model import Embedder

# e5's similarities sit in a narrow band (0.75–0.90); its training temperature spreads them.
TEMPERATURE = 0.01
# An interest below this score is not given to the post; a caption with no topic ("bom dia",
# "link na bio") spreads its score and gets none. At most MAX_INTERESTS per post.
INTEREST_THRESHOLD = 0.30
MAX_INTERESTS = 3
SENTIMENTS = ("positive", "neutral", "negative")


def _descriptions(name: str) -> dict[str, list[str]]:
    text = (resources.files("enrichment") / "labels" / f"{name}.json").read_text("utf-8")
    labels = json.loads(text)["labels"]
    return {
        label: [*by_lang.get("pt", []), *by_lang.get("en", [])] for label, by_lang in labels.items()
    }


def descriptions_version() -> str:
    """Short hash of both description files: new descriptions score every caption again."""
    digest = hashlib.sha256()
    for name in ("interests", "sentiment"):
        digest.update((resources.files("enrichment") / "labels" / f"{name}.json").read_bytes())
    return digest.hexdigest()[:8]


def classifier_version(embedder: Embedder) -> str:
    return f"{embedder.version}+labels.{descriptions_version()}"


@dataclass
class LabelSet:
    names: list[str]
    prototypes: list[np.ndarray]  # per label: (descriptions, dimensions)
    background: np.ndarray  # per label

    @classmethod
    def build(cls, embedder: Embedder, descriptions: dict[str, list[str]], calibrate: bool):
        import numpy as np

        names = sorted(descriptions)
        texts = [text for name in names for text in descriptions[name]]
        vectors = embedder.embed_references(texts)
        prototypes, start = [], 0
        for name in names:
            prototypes.append(vectors[start : start + len(descriptions[name])])
            start += len(descriptions[name])
        background = np.zeros(len(names), dtype=np.float32)
        if calibrate:
            own = [embedder.embed([t for t in descriptions[n]]) for n in names]
            for i in range(len(names)):
                others = np.concatenate([own[j] for j in range(len(names)) if j != i])
                background[i] = float((others @ prototypes[i].T).mean())
        return cls(names, prototypes, background)

    def probabilities(self, captions: np.ndarray) -> np.ndarray:
        """(n captions, labels): softmax of the calibrated mean similarities."""
        import numpy as np

        if len(captions) == 0:
            return np.zeros((0, len(self.names)), dtype=np.float32)
        sims = np.stack([(captions @ p.T).mean(axis=1) for p in self.prototypes], axis=1)
        logits = (sims - self.background) / TEMPERATURE
        logits -= logits.max(axis=1, keepdims=True)
        weights = np.exp(logits)
        return weights / weights.sum(axis=1, keepdims=True)


@dataclass
class Classifier:
    """Interests and sentiment of embedded captions, for one model and description version."""

    interests: LabelSet
    sentiment: LabelSet
    version: str

    @classmethod
    def for_embedder(cls, embedder: Embedder) -> Classifier:
        return cls(
            interests=LabelSet.build(embedder, _descriptions("interests"), calibrate=True),
            sentiment=LabelSet.build(embedder, _descriptions("sentiment"), calibrate=False),
            version=classifier_version(embedder),
        )

    def interests_of(self, captions: np.ndarray) -> list[list[tuple[str, float]]]:
        """Per caption, its interests at or above the threshold, best first (at most three)."""
        result = []
        for row in self.interests.probabilities(captions):
            order = row.argsort()[::-1][:MAX_INTERESTS]
            result.append(
                [
                    (self.interests.names[i], float(row[i]))
                    for i in order
                    if row[i] >= INTEREST_THRESHOLD
                ]
            )
        return result

    def ranked_interests(self, captions: np.ndarray) -> list[list[str]]:
        """Per caption, every interest from most to least likely (no threshold)."""
        probabilities = self.interests.probabilities(captions)
        return [[self.interests.names[i] for i in row.argsort()[::-1]] for row in probabilities]

    def sentiment_of(self, captions: np.ndarray) -> list[tuple[str, float]]:
        probabilities = self.sentiment.probabilities(captions)
        return [
            (self.sentiment.names[int(row.argmax())], float(row.max())) for row in probabilities
        ]
