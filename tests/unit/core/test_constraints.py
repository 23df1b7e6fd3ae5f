"""constraints.txt pins every package the project installs, so a fresh machine gets the versions
CI tested: a dependency added to pyproject.toml without `make constraints` would install at
whatever version is newest that day."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[3]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)$")


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        match = PIN.match(line.strip())
        assert match, f"constraints.txt: {line!r} is not a `name==version` pin"
        pins[_canonical(match.group(1))] = match.group(2)
    return pins


def _wanted(requirement: Requirement, extras: set[str]) -> bool:
    if requirement.marker is None:
        return True
    env = default_environment()
    return any(requirement.marker.evaluate({**env, "extra": e}) for e in extras or {""})


def _installed_closure() -> dict[str, str]:
    """Every distribution analisa[dev] pulls in, by pyproject.toml and installed metadata."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    roots = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    stack = [(Requirement(r), set()) for r in roots]
    seen: dict[str, str] = {}
    visited: set[tuple[str, frozenset[str]]] = set()
    while stack:
        requirement, parent_extras = stack.pop()
        if not _wanted(requirement, parent_extras):
            continue
        name = _canonical(requirement.name)
        key = (name, frozenset(requirement.extras))
        if key in visited:
            continue
        visited.add(key)
        try:
            dist = distribution(requirement.name)
        except PackageNotFoundError:
            raise AssertionError(f"{requirement.name} is required but not installed") from None
        seen[name] = dist.version
        stack += [(Requirement(r), set(requirement.extras)) for r in dist.requires or []]
    return seen


def test_constraints_pin_every_installed_dependency_at_its_installed_version():
    pins = _pins()
    installed = _installed_closure()
    assert "analisa" not in pins, "the project itself must not be pinned"
    missing = sorted(set(installed) - set(pins))
    assert missing == [], f"not pinned in constraints.txt (run `make constraints`): {missing}"
    differ = {n: (pins[n], v) for n, v in installed.items() if pins[n] != v}
    assert differ == {}, f"constraints.txt pin != installed version (run `make install`): {differ}"


def test_pins_parse_and_are_unique():
    lines = [
        line
        for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert len(lines) == len(_pins()) > 100
    assert not re.search(r"^(pip|setuptools|wheel)==", "\n".join(lines), re.MULTILINE)
