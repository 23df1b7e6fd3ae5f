"""Zero-shot accuracy on a labelled set of our own PT and EN captions (tests/data/enrichment),
never seen by the label descriptions (enrichment/labels/*.json): the floors the held-out
scoring uses. The measured values are printed for the record."""

from __future__ import annotations

import csv
import json
from collections import Counter
from importlib import resources
from pathlib import Path

import pytest

from enrichment.model import LIBRARY, library_installed

DATA = Path(__file__).resolve().parents[2] / "data" / "enrichment"
TAXONOMY = Path(__file__).resolve().parents[3] / "dbt_project/seeds/gold/interest_taxonomy.csv"

TOP1_FLOOR, TOP2_FLOOR, SENTIMENT_FLOOR = 0.75, 0.90, 0.70


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


INTERESTS = _rows("interest_captions.tsv")
SENTIMENTS = _rows("sentiment_captions.tsv")


def _taxonomy() -> set[str]:
    with TAXONOMY.open(encoding="utf-8") as handle:
        return {row["interest"] for row in csv.DictReader(handle)}


def test_the_set_covers_every_interest_in_both_languages():
    per_interest = Counter(r["interest"] for r in INTERESTS)
    assert set(per_interest) == _taxonomy()
    assert min(per_interest.values()) >= 8
    for interest in per_interest:
        languages = Counter(r["lang"] for r in INTERESTS if r["interest"] == interest)
        assert languages["pt"] >= 4 and languages["en"] >= 4, interest
    per_sentiment = Counter(r["sentiment"] for r in SENTIMENTS)
    assert set(per_sentiment) == {"positive", "neutral", "negative"}
    assert min(per_sentiment.values()) >= 30


def test_descriptions_cover_the_taxonomy_and_never_quote_a_test_caption():
    text = (resources.files("enrichment") / "labels" / "interests.json").read_text("utf-8")
    labels = json.loads(text)["labels"]
    assert set(labels) == _taxonomy()
    assert all(labels[name]["pt"] and labels[name]["en"] for name in labels)
    descriptions = {
        d.lower()
        for name in ("interests", "sentiment")
        for by_lang in json.loads(
            (resources.files("enrichment") / "labels" / f"{name}.json").read_text("utf-8")
        )["labels"].values()
        for d in by_lang["pt"] + by_lang["en"]
    }
    captions = {r["caption"].lower() for r in INTERESTS + SENTIMENTS}
    assert not descriptions & captions


@pytest.fixture(scope="module")
def classified():
    if not library_installed():
        pytest.skip(f"{LIBRARY} not installed (pip install -e '.[enrichment]')")
    from enrichment.labels import Classifier
    from enrichment.model import default_embedder

    embedder = default_embedder()
    classifier = Classifier.for_embedder(embedder)
    ranked = classifier.ranked_interests(embedder.embed([r["caption"] for r in INTERESTS]))
    sentiment = classifier.sentiment_of(embedder.embed([r["caption"] for r in SENTIMENTS]))
    return ranked, sentiment, embedder, classifier


def test_interest_accuracy_floors(classified):
    ranked, *_ = classified
    top1 = sum(r["interest"] == order[0] for r, order in zip(INTERESTS, ranked, strict=True))
    top2 = sum(r["interest"] in order[:2] for r, order in zip(INTERESTS, ranked, strict=True))
    n = len(INTERESTS)
    print(f"interests: top-1 {top1}/{n} = {top1 / n:.3f}, top-2 {top2}/{n} = {top2 / n:.3f}")
    assert top1 / n >= TOP1_FLOOR
    assert top2 / n >= TOP2_FLOOR
    for language in ("pt", "en"):
        subset = [(r, o) for r, o in zip(INTERESTS, ranked, strict=True) if r["lang"] == language]
        assert sum(r["interest"] == o[0] for r, o in subset) / len(subset) >= TOP1_FLOOR, language


def test_sentiment_accuracy_floor(classified):
    _, sentiment, *_ = classified
    right = {
        language: [
            r["sentiment"] == label
            for r, (label, _) in zip(SENTIMENTS, sentiment, strict=True)
            if r["lang"] == language
        ]
        for language in ("pt", "en")
    }
    everything = right["pt"] + right["en"]
    print(
        f"sentiment: {sum(everything)}/{len(everything)} = {sum(everything) / len(everything):.3f}"
        f" (pt {sum(right['pt']) / len(right['pt']):.3f}, en {sum(right['en']) / len(right['en']):.3f})"
    )
    assert sum(everything) / len(everything) >= SENTIMENT_FLOOR
    assert all(sum(v) / len(v) >= SENTIMENT_FLOOR for v in right.values())
    assert all(0 < score <= 1 for _, score in sentiment)


def test_a_caption_without_a_topic_gets_no_interest(classified):
    from enrichment.labels import INTEREST_THRESHOLD

    *_, embedder, classifier = classified
    found = classifier.interests_of(
        embedder.embed(["link na bio", "Treino de pernas pesado hoje, agachamento e leg press"])
    )
    assert found[0] == []
    assert found[1][0][0] == "fitness" and found[1][0][1] >= INTEREST_THRESHOLD


def test_classify_gives_the_same_labels_as_the_pipeline(classified):
    from enrichment.classify import classify

    ranked, sentiment, *_ = classified
    labels = classify([r["caption"] for r in INTERESTS[:5]] + [SENTIMENTS[0]["caption"]])
    assert [label.ranked_interests for label in labels[:5]] == ranked[:5]
    assert all(
        label.interests == [] or label.interests[0][0] == label.ranked_interests[0]
        for label in labels
    )
    assert labels[5].sentiment == sentiment[0][0]
