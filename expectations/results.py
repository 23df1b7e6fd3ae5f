"""What a gate found: one outcome per check, judged in Python on the few numbers SQL returned.

Each check reads one small aggregate row from the database (counts, maxima), never the layer's
rows, so a gate's memory does not grow with the data it judges.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from expectations.thresholds import ODD_ROWS_TOLERATED, ODD_SHARE_MAX


@dataclass(frozen=True)
class CheckOutcome:
    name: str
    passed: bool
    detail: str
    """What was observed and the limit it was held to, in words for the Dagster UI."""
    observed: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        return f"{self.name}: {self.detail}"


@dataclass(frozen=True)
class GateResult:
    gate: str
    rows: int
    checks: tuple[CheckOutcome, ...]

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
            "observed": {c.name: c.observed for c in self.checks},
        }


def _examples(examples: Sequence[Any]) -> str:
    return f" (e.g. {', '.join(str(e) for e in examples[:3])})" if examples else ""


def none_allowed(name: str, odd: int, total: int, examples: Sequence[Any] = ()) -> CheckOutcome:
    """A rule every record must keep: bronze is what everything else is rebuilt from."""
    return CheckOutcome(
        name=name,
        passed=odd == 0,
        detail=f"{odd} of {total} records{_examples(examples)}",
        observed={"odd": odd, "total": total},
    )


def systemic_share(
    name: str,
    odd: int,
    total: int,
    *,
    max_share: float = ODD_SHARE_MAX,
    unit: str = "rows",
    examples: Sequence[Any] = (),
) -> CheckOutcome:
    """Fails only on a systemic problem: more than ODD_ROWS_TOLERATED odd rows AND more than
    `max_share` of the rows. A lone outlier passes, whatever the table's size."""
    share = odd / total if total else 0.0
    passed = odd <= ODD_ROWS_TOLERATED or share <= max_share
    return CheckOutcome(
        name=name,
        passed=passed,
        detail=f"{odd} of {total} {unit} ({share:.1%}, limit {max_share:.0%}){_examples(examples)}",
        observed={"odd": odd, "total": total, "share": round(share, 6)},
    )
