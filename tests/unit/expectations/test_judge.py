"""Great Expectations is what decides a gate: the observations go into one small table, a GX
suite judges it, and each check's outcome follows the suite's result, naming GX's expectation.
No database: the observations are made by hand, as the gates make them from SQL counts."""

from __future__ import annotations

import math
import subprocess
import sys

import great_expectations as gx
import pytest

from expectations import judge as judge_module
from expectations.judge import Unjudged, judge, judge_checks
from expectations.results import (
    Check,
    Limit,
    Observation,
    none_allowed,
    share_limit,
    systemic_share,
)

BETWEEN = "expect_column_values_to_be_between"


@pytest.fixture
def suite_runs(monkeypatch):
    """Every GX validation run of the test: the table it was given and the result it returned."""
    runs = []
    real_run = gx.ValidationDefinition.run

    def spy(self, *args, **kwargs):
        result = real_run(self, *args, **kwargs)
        runs.append((kwargs["batch_parameters"]["dataframe"].copy(), result))
        return result

    monkeypatch.setattr(gx.ValidationDefinition, "run", spy)
    return runs


def test_an_observation_over_its_bound_fails_through_the_suite(suite_runs):
    # 3 of 201 = 0.0149254 > 0.01, and more than the one odd row tolerated
    ok, over = judge_checks(
        [systemic_share("likes >= 0", 1, 201), systemic_share("views >= 0", 3, 201)]
    )
    assert ok.passed and ok.unexpected == ()
    assert not over.passed
    assert over.unexpected == (f"{BETWEEN}: share 0.0149254 not <= 0.01 (judged beyond 1 odd)",)
    assert over.describe() == "views >= 0: 3 of 201 rows (1.5%, limit 1%)"

    # one suite run, on a table of two observations (not the 201 rows they count)
    ((table, result),) = suite_runs
    assert table[["check", "measure", "observed", "odd"]].to_dict("records") == [
        {"check": 0, "measure": "share", "observed": 1 / 201, "odd": 1.0},
        {"check": 1, "measure": "share", "observed": 3 / 201, "odd": 3.0},
    ]
    # the not-null guard and one between per limit; the lone odd row is left out by GX's
    # row condition, so only the second row was judged against 0.01
    assert [r.expectation_config.type for r in result.results] == [
        "expect_column_values_to_not_be_null",
        BETWEEN,
    ]
    between = result.results[1]
    assert not result.success and not between.success
    assert between.expectation_config.kwargs["max_value"] == 0.01
    assert between.result["element_count"] == 1
    assert between.result["unexpected_index_list"] == [1]


def test_the_outcome_follows_gx_not_python(monkeypatch):
    # the same observation under a suite whose expectation allows anything: GX says it passes,
    # so the check passes, though 3 of 201 is over the limit in every Python sense
    real = judge_module._expectation

    def lenient(gx_module, limit):
        expectation = real(gx_module, limit)
        expectation.max_value = 1.0
        return expectation

    monkeypatch.setattr(judge_module, "_expectation", lenient)
    (check,) = judge_checks([systemic_share("views >= 0", 3, 201)])
    assert check.passed and check.unexpected == ()


@pytest.mark.parametrize(
    ("value", "passed"),
    [(10.0, True), (5.0, True), (4.999, False), (20.0, True), (20.001, False)],
)
def test_bounds_are_inclusive_at_both_ends(value, passed):
    limit = Limit("value in [5, 20]", min_value=5, max_value=20)
    (check,) = judge_checks([Check("c", "words", observations=(Observation("v", value, limit),))])
    assert check.passed is passed
    if not passed:
        assert check.unexpected == (f"{BETWEEN}: v {value:g} not in [5, 20]",)


def test_a_lone_odd_unit_is_left_out_whatever_its_share():
    alone, two = judge_checks(
        [
            Check("a", "", observations=(Observation("share", 1.0, share_limit(0.1), odd=1),)),
            Check("b", "", observations=(Observation("share", 1.0, share_limit(0.1), odd=2),)),
        ]
    )
    assert alone.passed
    assert not two.passed
    assert two.unexpected == (f"{BETWEEN}: share 1 not <= 0.1 (judged beyond 1 odd)",)


def test_a_number_sql_could_not_compute_fails_instead_of_being_skipped():
    (check,) = judge_checks(
        [Check("c", "", observations=(Observation("share", math.nan, share_limit(0.01), odd=5),))]
    )
    assert not check.passed
    assert check.unexpected == ("expect_column_values_to_not_be_null: share nan is not a number",)


def test_one_run_judges_several_gates_and_each_keeps_its_own_checks(suite_runs):
    fresh = Limit("lag_seconds <= 43200", max_value=43200)
    gates = {
        "a": Unjudged("silver_a", 10, [none_allowed("r", 0, 10), Check("volume", "first")]),
        "b": Unjudged(
            "silver_b",
            5,
            [
                Check(
                    "freshness",
                    "lag 13.0 h",
                    {"lag_seconds": {"instagram": 46800, "tiktok": 0}},
                    (
                        Observation("lag_seconds instagram", 46800, fresh, note="instagram late"),
                        Observation("lag_seconds tiktok", 0, fresh, note="tiktok late"),
                    ),
                    lambda failed: "; ".join(o.note for o in failed),
                ),
            ],
        ),
    }
    results = judge("silver_gate", gates)
    assert len(suite_runs) == 1 and len(suite_runs[0][0]) == 3  # three observations
    a, b = results["a"], results["b"]
    assert a.success and [c.name for c in a.checks] == ["r", "volume"]
    assert not b.success
    assert b.summary() == "silver_b: freshness: instagram late"
    version = gx.__version__
    judged_by = (
        f"Great Expectations {version} suite silver_gate: "
        "3 expectations on 3 observations, 1 unexpected"
    )
    assert a.judged_by == b.judged_by == judged_by
    assert b.metadata()["unexpected"] == [
        f"freshness: {BETWEEN}: lag_seconds instagram 46800 not <= 43200"
    ]
    assert b.metadata()["judged_by"] == judged_by


def test_checks_without_observations_pass_without_a_suite(suite_runs):
    (check,) = judge_checks([Check("volume", "200 rows, first accepted build", {"rows": 200})])
    assert check.passed and check.describe() == "volume: 200 rows, first accepted build"
    assert suite_runs == []


def test_two_limits_under_one_name_are_refused():
    checks = [
        Check("a", "", observations=(Observation("v", 1, Limit("same", max_value=1)),)),
        Check("b", "", observations=(Observation("v", 1, Limit("same", max_value=2)),)),
    ]
    with pytest.raises(ValueError, match="two limits named 'same'"):
        judge_checks(checks)


def test_loading_the_gates_does_not_import_gx():
    # the import takes seconds: only a gate run pays for it, not loading the Dagster definitions
    code = (
        "import sys, expectations.bronze, expectations.silver, expectations.gold, "
        "orchestration.defs.quality.checks; "
        "print(sorted(m for m in ('great_expectations', 'pandas') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
