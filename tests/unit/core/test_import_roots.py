"""The import roots come from this project alone. PyPI has unrelated packages named
`connectors`, `expectations` and `orchestration`; installed beside analisa, one would mix its
files into ours or shadow them (docs/architecture.md, "Import roots")."""

from __future__ import annotations

import importlib.util
import re
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PROJECT = "analisa"
IMPORT_ROOTS = (
    "analisa",
    "connectors",
    "expectations",
    "orchestration",
    "serving_api",
    "sandbox",
    "exports",
    "privacy",
    "enrichment",
)


def canonicalize_name(name: str) -> str:
    """PEP 503 normalisation, so `Analisa` and `analisa` count as one distribution."""
    return re.sub(r"[-_.]+", "-", name).lower()


def foreign_owners(provided: dict[str, list[str]]) -> dict[str, list[str]]:
    """Each import root that an installed distribution other than analisa also provides."""
    found = {}
    for root in IMPORT_ROOTS:
        others = {canonicalize_name(d) for d in provided.get(root, [])} - {PROJECT}
        if others:
            found[root] = sorted(others)
    return found


def test_no_other_installed_distribution_provides_an_import_root():
    assert foreign_owners(packages_distributions()) == {}


def test_the_check_names_a_foreign_distribution(tmp_path, monkeypatch):
    # What `pip install connectors` leaves behind: a distribution whose top level is `connectors`.
    dist_info = tmp_path / "connectors-0.0.1.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: connectors\nVersion: 0.0.1\n")
    (dist_info / "top_level.txt").write_text("connectors\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert foreign_owners(packages_distributions()) == {"connectors": ["connectors"]}


def test_the_installed_project_ships_exactly_the_import_roots():
    # The installed metadata is what the build shipped from pyproject's package discovery:
    # tests/ and benchmarks/ must not be there, and no root may be missing.
    shipped = {
        name
        for name, dists in packages_distributions().items()
        if PROJECT in {canonicalize_name(d) for d in dists}
    }
    assert shipped == set(IMPORT_ROOTS)


def test_each_import_root_is_imported_from_this_checkout():
    for root in IMPORT_ROOTS:
        spec = importlib.util.find_spec(root)
        assert spec is not None and spec.origin, f"{root} is not importable"
        assert Path(spec.origin).resolve() == ROOT / root / "__init__.py", (
            f"{root} is imported from {spec.origin}, not from this checkout"
        )


def test_pyproject_names_the_same_roots_for_packaging_and_lint():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    include = config["tool"]["setuptools"]["packages"]["find"]["include"]
    # each root and its subpackages, nothing looser (`connectors*` would also take `connectors_x`)
    assert sorted(include) == sorted([*IMPORT_ROOTS, *(f"{root}.*" for root in IMPORT_ROOTS)])
    first_party = config["tool"]["ruff"]["lint"]["isort"]["known-first-party"]
    assert sorted(first_party) == sorted(IMPORT_ROOTS)
