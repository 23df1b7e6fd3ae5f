"""What a gate found. Each check reduces to a few numbers computed in SQL (counts, shares, lags,
ratios); each number is an Observation held to a Limit, and a Great Expectations suite
(expectations/judge.py) decides which observations break their limit. A gate's memory does not
grow with the data it judges: GX sees a handful of observations, never the layer's rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from expectations.thresholds import ODD_ROWS_TOLERATED, ODD_SHARE_MAX


@dataclass(frozen=True)
class Limit:
    """A bound observations are held to: one GX expectation judges every observation of it."""

    rule: str
    """Words naming the limit, unique per limit (the `rule` column of the observations)."""
    min_value: float | None = None
    max_value: float | None = None
    tolerated: int | None = None
    """Observations of at most this many odd units are not judged: a lone outlier passes."""

    def words(self) -> str:
        if self.min_value is not None and self.max_value is not None:
            bound = f"in [{self.min_value:g}, {self.max_value:g}]"
        elif self.max_value is not None:
            bound = f"<= {self.max_value:g}"
        else:
            bound = f">= {self.min_value:g}"
        beyond = f" (judged beyond {self.tolerated} odd)" if self.tolerated is not None else ""
        return bound + beyond


@dataclass(frozen=True)
class Observation:
    """One number a check observed, and the limit it must keep."""

    measure: str
    value: float
    limit: Limit
    odd: int | None = None
    """How many units were odd, for a limit that tolerates a few."""
    note: str = ""
    """Words for the Dagster UI when this observation breaks its limit."""


@dataclass(frozen=True)
class CheckOutcome:
    name: str
    passed: bool
    detail: str
    """What was observed and the limit it was held to, in words for the Dagster UI."""
    observed: dict[str, Any] = field(default_factory=dict)
    unexpected: tuple[str, ...] = ()
    """GX's verdict on each observation beyond its limit: expectation type, value, limit."""

    def describe(self) -> str:
        return f"{self.name}: {self.detail}"


@dataclass(frozen=True)
class Check:
    """A check before judgement: its observations, and its words for the Dagster UI."""

    name: str
    detail: str
    observed: dict[str, Any] = field(default_factory=dict)
    observations: tuple[Observation, ...] = ()
    failure_detail: Callable[[Sequence[Observation]], str] | None = None
    """Words when some observations broke their limit, when they differ from `detail`."""

    def outcome(self, failed: Sequence[Observation], unexpected: Sequence[str]) -> CheckOutcome:
        """The outcome once GX found `failed` (and said `unexpected`) among the observations."""
        detail = self.failure_detail(failed) if failed and self.failure_detail else self.detail
        return CheckOutcome(self.name, not failed, detail, self.observed, tuple(unexpected))


@dataclass(frozen=True)
class GateResult:
    gate: str
    rows: int
    checks: tuple[CheckOutcome, ...]
    judged_by: str = ""
    """The GX suite run that judged the checks, and on how many observations."""

    @property
    def success(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def failures(self) -> list[CheckOutcome]:
        return [c for c in self.checks if not c.passed]

    def summary(self) -> str:
        if self.success:
            return f"{self.gate}: {len(self.checks)} checks passed on {self.rows} rows"
        return f"{self.gate}: " + "; ".join(c.describe() for c in self.failures)

    def metadata(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "checks": len(self.checks),
            "failures": [c.describe() for c in self.failures],
            "unexpected": [f"{c.name}: {u}" for c in self.failures for u in c.unexpected],
            "judged_by": self.judged_by,
            "observed": {c.name: c.observed for c in self.checks},
        }


def _examples(examples: Sequence[Any]) -> str:
    return f" (e.g. {', '.join(str(e) for e in examples[:3])})" if examples else ""


NONE_ALLOWED = Limit("odd records = 0", min_value=0, max_value=0)


def none_allowed(name: str, odd: int, total: int, examples: Sequence[Any] = ()) -> Check:
    """A rule every record must keep: bronze is what everything else is rebuilt from."""
    return Check(
        name=name,
        detail=f"{odd} of {total} records{_examples(examples)}",
        observed={"odd": odd, "total": total},
        observations=(Observation("odd", odd, NONE_ALLOWED),),
    )


def share_limit(max_share: float) -> Limit:
    """At most `max_share` odd, judged only beyond ODD_ROWS_TOLERATED odd units."""
    return Limit(
        f"odd share <= {max_share:g} beyond {ODD_ROWS_TOLERATED} odd",
        max_value=max_share,
        tolerated=ODD_ROWS_TOLERATED,
    )


def systemic_share(
    name: str,
    odd: int,
    total: int,
    *,
    max_share: float = ODD_SHARE_MAX,
    unit: str = "rows",
    examples: Sequence[Any] = (),
) -> Check:
    """Fails only on a systemic problem: more than ODD_ROWS_TOLERATED odd rows AND more than
    `max_share` of the rows. A lone outlier passes, whatever the table's size."""
    share = odd / total if total else 0.0
    return Check(
        name=name,
        detail=f"{odd} of {total} {unit} ({share:.1%}, limit {max_share:.0%}){_examples(examples)}",
        observed={"odd": odd, "total": total, "share": round(share, 6)},
        observations=(Observation("share", share, share_limit(max_share), odd=odd),),
    )
