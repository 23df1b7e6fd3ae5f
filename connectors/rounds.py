"""What a platform's collection routine gets: one account's round, with every call kept.

The routine (connectors/<platform>/collect.py) makes the calls; the session keeps each record
in call order, counts it against the shared budget, and stops the round at the first answer
after which the platform must not be called again (throttled, token, permission, server). The
collector then commits what was kept, whatever stopped the round.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from connectors.http import ApiProblem
from connectors.records import RawRecord

if TYPE_CHECKING:
    import httpx

    from analisa.core.settings import Settings
    from connectors.platform import Classifier
    from connectors.rate_budget import RateBudget
    from connectors.tasks import CollectionTask
    from connectors.tokens import TokenSet

# Problems after which the platform must not be called again in this round.
STOPPING = frozenset({"throttled", "token_invalid", "permission", "server"})


class RoundStopped(Exception):
    """Raised by `RoundSession.take` to end the round; carries the problem that stopped it."""

    def __init__(self, problem: ApiProblem):
        super().__init__(problem.kind)
        self.problem = problem


@dataclass
class RoundSession:
    settings: Settings
    http: httpx.Client
    task: CollectionTask
    token: TokenSet
    budget: RateBudget
    classify: Classifier
    posts_to_probe: Callable[[], list[str]]
    """Posts of this account that silver says need an existence probe (see int_posts_to_probe)."""
    records: list[RawRecord] = field(default_factory=list)
    malformed: int = 0

    def take(self, record: RawRecord, headers: Mapping[str, str] | None = None) -> RawRecord:
        """Keep one answer; raise RoundStopped when the platform must not be called again.

        `headers` are the answer's (usage headers say how long a throttle lasts).
        """
        self.records.append(record)
        self.budget.count_call(record.platform, record.endpoint)
        problem = self.classify(record, headers)
        if problem is not None:
            if problem.kind == "malformed":
                self.malformed += 1
            if problem.kind in STOPPING:
                raise RoundStopped(problem)
        return record

    def take_all(self, records: Iterable[RawRecord]) -> list[RawRecord]:
        return [self.take(r) for r in records]


def usable_json(record: RawRecord) -> dict[str, Any] | None:
    """The body of a 200 answer that is a JSON object, else None (an error or malformed page)."""
    body = record.body
    return body if record.status == 200 and isinstance(body, dict) else None
