"""Great Expectations judges the gates, on the few numbers SQL computed.

A gate run turns every check into observations (a count, a share, a lag, a ratio) and builds one
small table of them: one row per observation, never a row of the layer. A GX 1.x suite runs on
that table in an ephemeral context, once per gate run: one ExpectColumnValuesToBeBetween per
limit (its rows picked by a row condition, a lone outlier left out by another) and
ExpectColumnValuesToNotBeNull on every observation. Its unexpected rows are the observations
beyond their limit, mapped back to the checks' outcomes.

GX is imported here only, when a gate runs: the import takes seconds, and loading the Dagster
definitions must not pay for it. A run that will reach a gate starts the import in the
background when it begins (`preload`), so it overlaps the steps before the first gate (a full
build's bronze gate step, which every later step waits for: 6.3 s importing GX itself, 2.8 s with
the import begun when the run began).
"""

from __future__ import annotations

import contextlib
import math
import sys
import threading
from collections.abc import Hashable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from expectations.results import Check, CheckOutcome, GateResult, Limit, Observation

if TYPE_CHECKING:
    import pandas as pd

K = TypeVar("K", bound=Hashable)

# Columns of the observations table.
GATE, CHECK, MEASURE, RULE, OBSERVED, ODD = "gate", "check", "measure", "rule", "observed", "odd"
# The expectation every observation meets whatever its limit: a number that SQL could not
# compute (NaN) would otherwise be skipped by the between expectations, and pass.
PRESENT = "observed is a number"


class Unjudged(NamedTuple):
    """One gate's checks before the suite has judged them."""

    gate: str
    rows: int
    checks: Sequence[Check]


class _Row(NamedTuple):
    gate: str
    check: int
    """Index of the check in the run's flat list of checks."""
    observation: Observation


_preloading: threading.Thread | None = None
_preload_lock = threading.Lock()


def _import_gx() -> None:
    with contextlib.suppress(Exception):  # a gate imports it again and reports what failed
        import great_expectations  # noqa: F401


def preload() -> None:
    """Import GX on a background thread, once per process, unless it is imported already."""
    global _preloading
    with _preload_lock:
        if _preloading is None and "great_expectations" not in sys.modules:
            _preloading = threading.Thread(target=_import_gx, name="gx-preload", daemon=True)
            _preloading.start()


def _context() -> tuple[Any, Any]:
    """GX and an ephemeral context: stores in memory, no analytics, no progress bars."""
    with _preload_lock:
        preloading = _preloading
    if preloading is not None:
        # one import at a time: the gate waits for the one under way rather than run its own
        # beside it
        preloading.join()
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    return gx, gx.get_context(mode="ephemeral", project_config=config)


def observations_frame(rows: Sequence[_Row]) -> pd.DataFrame:
    """The table the suite reads: one row per observation."""
    import pandas as pd

    return pd.DataFrame(
        {
            GATE: [r.gate for r in rows],
            CHECK: [r.check for r in rows],
            MEASURE: [r.observation.measure for r in rows],
            RULE: [r.observation.limit.rule for r in rows],
            OBSERVED: [float(r.observation.value) for r in rows],
            ODD: [math.nan if r.observation.odd is None else r.observation.odd for r in rows],
        }
    ).astype({OBSERVED: "float64", ODD: "float64"})


def _limits(rows: Sequence[_Row]) -> list[Limit]:
    """Each limit once, in order of first use; two limits under one rule name are a bug."""
    limits: dict[str, Limit] = {}
    for row in rows:
        limit = row.observation.limit
        if limits.setdefault(limit.rule, limit) != limit:
            raise ValueError(f"two limits named {limit.rule!r}: {limits[limit.rule]} and {limit}")
    return list(limits.values())


def _expectation(gx: Any, limit: Limit) -> Any:
    from great_expectations.expectations.row_conditions import Column

    condition = Column(RULE) == limit.rule
    if limit.tolerated is not None:
        condition = condition & (Column(ODD) > limit.tolerated)
    return gx.expectations.ExpectColumnValuesToBeBetween(
        column=OBSERVED,
        min_value=limit.min_value,
        max_value=limit.max_value,
        row_condition=condition,
        meta={RULE: limit.rule},
    )


def _run_suite(suite_name: str, rows: Sequence[_Row]) -> tuple[dict[int, list[str]], str]:
    """Validate the observations; for each row GX found unexpected, its words. One context."""
    gx, context = _context()
    limits = _limits(rows)
    batch = (
        context.data_sources.add_pandas("observations")
        .add_dataframe_asset(suite_name)
        .add_batch_definition_whole_dataframe("gate_run")
    )
    suite = context.suites.add(gx.ExpectationSuite(name=suite_name))
    suite.add_expectation(
        gx.expectations.ExpectColumnValuesToNotBeNull(column=OBSERVED, meta={RULE: PRESENT})
    )
    for limit in limits:
        suite.add_expectation(_expectation(gx, limit))
    validation = context.validation_definitions.add(
        gx.ValidationDefinition(name=suite_name, data=batch, suite=suite)
    )
    result = validation.run(
        batch_parameters={"dataframe": observations_frame(rows)},
        result_format={"result_format": "COMPLETE"},
    )
    by_rule = {limit.rule: limit for limit in limits}
    unexpected: dict[int, list[str]] = {}
    judged = set()
    for res in result.results:
        config = res.expectation_config
        rule = config.meta[RULE]
        judged.add(rule)
        if res.success:
            continue
        limit = by_rule.get(rule)
        words = f"not {limit.words()}" if limit else "is not a number"
        detail = res.result or {}
        indexes = detail.get("unexpected_index_list") or []
        for index in indexes:
            observation = rows[index].observation
            unexpected.setdefault(index, []).append(
                f"{config.type}: {observation.measure} {observation.value:g} {words}"
            )
        if not indexes:  # GX could not evaluate it: every observation it governs fails
            reason = _exception(res.exception_info) or "no result"
            for index, row in enumerate(rows):
                if limit is None or row.observation.limit == limit:
                    unexpected.setdefault(index, []).append(f"{config.type} failed: {reason}")
    if judged != {PRESENT, *by_rule}:
        raise RuntimeError(f"GX returned no result for {sorted(set(by_rule) - judged)}")
    stats = result.statistics or {}
    judged_by = (
        f"Great Expectations {gx.__version__} suite {suite_name}: "
        f"{stats.get('evaluated_expectations', len(limits))} expectations on "
        f"{len(rows)} observations, {len(unexpected)} unexpected"
    )
    return unexpected, judged_by


def _exception(info: Any) -> str:
    """The first exception message in a GX result's exception_info (flat or per metric)."""
    if not isinstance(info, dict):
        return ""
    if info.get("exception_message"):
        return str(info["exception_message"])
    return next((m for v in info.values() if (m := _exception(v))), "")


def judge(suite_name: str, gates: Mapping[K, Unjudged]) -> dict[K, GateResult]:
    """Every check of one gate run judged by one GX suite run; results keyed like `gates`."""
    checks = [check for gate in gates.values() for check in gate.checks]
    rows: list[_Row] = []
    owner = 0
    for gate in gates.values():
        for check in gate.checks:
            rows += [_Row(gate.gate, owner, o) for o in check.observations]
            owner += 1
    if rows:
        unexpected, judged_by = _run_suite(suite_name, rows)
    else:
        unexpected, judged_by = {}, f"suite {suite_name}: no observations to judge"
    failed: dict[int, list[Observation]] = {}
    words: dict[int, list[str]] = {}
    for index, said in unexpected.items():
        failed.setdefault(rows[index].check, []).append(rows[index].observation)
        words.setdefault(rows[index].check, []).extend(said)
    outcomes = [
        check.outcome(failed.get(i, []), words.get(i, [])) for i, check in enumerate(checks)
    ]
    results: dict[K, GateResult] = {}
    start = 0
    for key, gate in gates.items():
        mine = tuple(outcomes[start : start + len(gate.checks)])
        start += len(gate.checks)
        results[key] = GateResult(gate.gate, gate.rows, mine, judged_by)
    return results


def judge_checks(checks: Sequence[Check], suite_name: str = "checks") -> list[CheckOutcome]:
    """Checks judged on their own (one suite run), in their order."""
    result = judge(suite_name, {0: Unjudged(suite_name, 0, checks)})
    return list(result[0].checks)
