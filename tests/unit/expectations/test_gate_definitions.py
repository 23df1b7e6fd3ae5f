"""The gates' judging rules and definitions, without a database: the systemic rule's edges as
Great Expectations judges them, the bronze rules following the catalog, and the silver and gold gates reading only columns their
dbt models document (the integration tests use hand-made tables, so a renamed column must show
up here)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from analisa.core import catalog
from expectations import bronze, gold, silver
from expectations.judge import judge_checks
from expectations.results import GateResult, none_allowed, systemic_share

MODELS = Path(__file__).resolve().parents[3] / "dbt_project" / "models"


@pytest.mark.parametrize(
    ("odd", "total", "passed"),
    [
        (0, 0, True),
        (1, 1, True),  # a lone odd row, even as the whole table
        (2, 2, False),
        (2, 200, True),  # 1.0 %: not above the limit
        (3, 201, False),  # 1.49 %
        (10, 1000, True),
        (11, 1000, False),
    ],
)
def test_systemic_share_edges(odd, total, passed):
    (check,) = judge_checks([systemic_share("x", odd, total)])
    assert check.passed is passed


def test_systemic_share_with_its_own_limit_and_words():
    (check,) = judge_checks(
        [systemic_share("q", 3, 20, max_share=0.10, unit="answers", examples=["a", "b"])]
    )
    assert not check.passed
    assert check.describe() == "q: 3 of 20 answers (15.0%, limit 10%) (e.g. a, b)"
    assert check.observed == {"odd": 3, "total": 20, "share": 0.15}


def test_bronze_holds_every_record_and_a_result_sums_up_its_failures():
    ok, failed = judge_checks(
        [none_allowed("ok", 0, 5), none_allowed("r", 1, 100_000, ["record 7"])]
    )
    assert ok.passed
    assert not failed.passed
    result = GateResult("bronze_x", 5, (ok, failed))
    assert result.summary() == "bronze_x: r: 1 of 100000 records (e.g. record 7)"
    assert result.metadata()["failures"] == ["r: 1 of 100000 records (e.g. record 7)"]


def test_bronze_rules_follow_the_catalog():
    required = {e.name for e in catalog.ENDPOINTS if e.object_id_required}
    rule = next(r for r in bronze.RULES if r.name == "object_id present")
    assert {e.name for e in catalog.ENDPOINTS if rule.applies(e)} == required
    listing = next(r for r in bronze.RULES if r.name == "round_id present")
    assert {e.view for e in catalog.ENDPOINTS if listing.applies(e)} == {
        e.view for e in catalog.ENDPOINTS if e.is_listing
    }


def _documented_columns(layer: str, table: str) -> set[str]:
    (path,) = (MODELS / layer).rglob(f"{table}.yml")
    # the file may also describe the tables a view is made of (int_post_snapshots)
    (model,) = [m for m in yaml.safe_load(path.read_text())["models"] if m["name"] == table]
    return {c["name"] for c in model["columns"]}


@pytest.mark.parametrize(
    "gate", [*silver.GATES.values(), *gold.GATES.values()], ids=lambda g: g.name
)
def test_gates_read_only_documented_columns(gate):
    columns = _documented_columns(gate.layer, gate.table)
    read = {"captured_at", "platform"} if gate.fed_by else set()
    if not gate.units:  # bounds over groups read the columns their units SQL names
        for bound in gate.bounds:
            read |= {c.strip() for c in bound.shown.split(",")}
    assert read <= columns, read - columns


def test_audience_groups_read_documented_columns():
    columns = _documented_columns("gold", "audience_segments")
    assert {"platform", "account_id", "dimension", "share", "followers_in_segment"} <= columns
    assert "followers_in_segment" in gold.GATES["audience_segments"].units
