"""Run a Great Expectations 1.x suite on a DataFrame; the asset checks call this.

GX is imported lazily (the import alone takes seconds) and runs in an ephemeral context:
suites live in code (expectations/<layer>.py), results go to Dagster check metadata.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pandas as pd


@dataclass(frozen=True)
class Failure:
    expectation: str
    column: str | None
    unexpected_count: int | None
    examples: list[Any]

    def describe(self) -> str:
        where = f" on {self.column}" if self.column else ""
        count = f": {self.unexpected_count} unexpected" if self.unexpected_count is not None else ""
        sample = f" e.g. {self.examples[:3]}" if self.examples else ""
        return f"{self.expectation}{where}{count}{sample}"


@dataclass(frozen=True)
class SuiteResult:
    suite: str
    success: bool
    rows: int
    evaluated: int
    failures: list[Failure] = field(default_factory=list)

    def summary(self) -> str:
        if self.success:
            return f"{self.suite}: {self.evaluated} expectations passed on {self.rows} rows"
        return f"{self.suite}: " + "; ".join(f.describe() for f in self.failures)


# A suite is a function of gx.expectations → list of expectations, so suites stay plain code
# that does not import GX at module import time.
SuiteBuilder = Callable[[Any], Sequence[Any]]


def _context():
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


def frame(cursor) -> pd.DataFrame:
    """A query result as a DataFrame; NUMERIC columns become floats (GX compares numbers)."""
    cols = [d.name for d in cursor.description]
    df = pd.DataFrame(cursor.fetchall(), columns=cols)
    for col in cols:
        if df[col].map(lambda v: isinstance(v, Decimal)).any():
            df[col] = df[col].map(lambda v: None if v is None else float(v)).astype("float64")
    return df


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and value != value:  # NaN
        return None
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def validate(df: pd.DataFrame, suite_name: str, build: SuiteBuilder) -> SuiteResult:
    gx, ctx = _context()
    asset = ctx.data_sources.add_pandas(f"{suite_name}_source").add_dataframe_asset(suite_name)
    batch = asset.add_batch_definition_whole_dataframe("whole")
    suite = ctx.suites.add(gx.ExpectationSuite(name=suite_name))
    for expectation in build(gx.expectations):
        suite.add_expectation(expectation)
    definition = ctx.validation_definitions.add(
        gx.ValidationDefinition(name=f"{suite_name}_validation", data=batch, suite=suite)
    )
    result = definition.run(batch_parameters={"dataframe": df})
    failures = []
    for res in result.results:
        if res.success:
            continue
        cfg = res.expectation_config
        detail = res.result or {}
        failures.append(
            Failure(
                expectation=cfg.type,
                column=cfg.kwargs.get("column")
                or ",".join(cfg.kwargs.get("column_list") or [])
                or None,
                unexpected_count=detail.get("unexpected_count"),
                examples=[_jsonable(v) for v in (detail.get("partial_unexpected_list") or [])[:5]],
            )
        )
    stats = result.statistics or {}
    return SuiteResult(
        suite=suite_name,
        success=bool(result.success),
        rows=len(df),
        evaluated=int(stats.get("evaluated_expectations", 0)),
        failures=failures,
    )


def validate_query(conn, sql: str, suite_name: str, build: SuiteBuilder) -> SuiteResult:
    """Validate what a query returns (a layer's table, or an aggregate of it)."""
    return validate(frame(conn.execute(sql)), suite_name, build)
