"""The structure holds: dependencies point down, and no code outside the registry and the
platform packages chooses a platform by name. Read from the source's own imports (AST), so a
violation anywhere, even inside a function, fails here."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ROOTS = (
    "analisa",
    "connectors",
    "sandbox",
    "orchestration",
    "expectations",
    "serving_api",
    "exports",
    "privacy",
    "enrichment",
)


def _package_of(module: str) -> str:
    """The layer a dotted module belongs to: analisa.core and analisa.cli are layers of their own."""
    parts = module.split(".")
    if parts[0] == "analisa" and len(parts) > 1 and parts[1] in ("core", "cli"):
        return f"analisa.{parts[1]}"
    return parts[0]


def _python_files(layer: str) -> list[Path]:
    folder = ROOT / Path(*layer.split("."))
    return sorted(folder.rglob("*.py"))


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return {name for name in found if name.split(".")[0] in ROOTS}


def _layers_imported(layer: str) -> dict[str, set[str]]:
    """{imported layer: {files importing it}} for every file of `layer`."""
    seen: dict[str, set[str]] = {}
    for path in _python_files(layer):
        for module in _imports(path):
            seen.setdefault(_package_of(module), set()).add(path.relative_to(ROOT).as_posix())
    seen.pop(layer, None)
    return seen


# layer → layers it must never import
FORBIDDEN = {
    "analisa.core": set(ROOTS) - {"analisa"} | {"analisa.cli"},
    "connectors": {"orchestration", "serving_api", "analisa.cli", "sandbox", "expectations"},
    "sandbox": {"connectors", "orchestration", "serving_api", "analisa.cli", "expectations"},
    "serving_api": {"orchestration", "connectors", "sandbox", "analisa.cli", "expectations"},
    "expectations": {"connectors", "orchestration", "serving_api", "sandbox", "analisa.cli"},
    "orchestration": {"serving_api", "sandbox", "analisa.cli"},
    # the AI enrichment reads silver and writes its own tables: the kernel only
    "enrichment": set(ROOTS) - {"analisa", "enrichment"} | {"analisa.cli"},
    # Parquet exports read the database and write files: the kernel only
    "exports": set(ROOTS) - {"analisa", "exports"} | {"analisa.cli"},
    # erasure reaches every store: the kernel, the collection machinery (queue, suppression,
    # tokens) and the exports it rewrites; never the layers that wire or serve it
    "privacy": {"orchestration", "serving_api", "analisa.cli", "sandbox", "expectations"},
}


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_dependencies_point_down(layer):
    imported = _layers_imported(layer)
    wrong = {other: sorted(files) for other, files in imported.items() if other in FORBIDDEN[layer]}
    assert wrong == {}, f"{layer} imports layers above or beside it: {wrong}"


def test_only_the_cli_imports_orchestration_serving_api_and_sandbox():
    for layer in ("analisa.core", "connectors", "expectations", "serving_api", "sandbox"):
        imported = _layers_imported(layer)
        for top in ("orchestration", "serving_api", "sandbox"):
            if top != layer:
                assert top not in imported, (layer, top, imported.get(top))


def test_the_checker_sees_a_violation(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        "def f():\n    from orchestration.run import run_job\n    import sandbox.world\n"
    )
    assert _imports(bad) == {"orchestration.run", "sandbox.world"}


PLATFORM_NAMES = ("instagram", "tiktok")
# The registry and the platform packages choose by platform; the sandbox emulates the platforms.
PLATFORM_HOMES = (
    "connectors/instagram/",
    "connectors/tiktok/",
    "connectors/registry.py",
    "sandbox/",
)


def _platform_branches(path: Path) -> list[int]:
    """Lines where code compares something with a platform's name (==, !=, in (...), match)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            for operand in operands:
                values = [operand]
                if isinstance(operand, ast.Tuple | ast.List | ast.Set):
                    values = list(operand.elts)
                if any(isinstance(v, ast.Constant) and v.value in PLATFORM_NAMES for v in values):
                    lines.append(node.lineno)
        elif isinstance(node, ast.match_case):
            pattern = node.pattern
            if isinstance(pattern, ast.MatchValue) and getattr(pattern.value, "value", None) in (
                PLATFORM_NAMES
            ):
                lines.append(pattern.lineno)
    return lines


def test_no_platform_branching_outside_the_registry_and_platform_packages():
    offenders = {}
    for layer in ROOTS:
        for path in _python_files(layer):
            relative = path.relative_to(ROOT).as_posix()
            if relative.startswith(PLATFORM_HOMES):
                continue
            lines = _platform_branches(path)
            if lines:
                offenders[relative] = lines
    assert offenders == {}


def test_the_branch_finder_sees_a_branch(tmp_path):
    code = tmp_path / "branchy.py"
    code.write_text(
        "def f(p):\n    if p == 'instagram':\n        return 1\n"
        "    if p in ('x', 'tiktok'):\n        return 2\n"
    )
    assert _platform_branches(code) == [2, 4]
