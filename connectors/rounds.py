"""What a platform's collection routine gets: one account's round, with every call kept.

The routine (connectors/<platform>/collect.py) makes the calls; before each one the session
asks the shared budget (connectors/rate_budget.py) at the platform's own levels, and ends the
round with the exact wait when the budget says no; after each one it keeps the record in call
order, stores the usage headers, blocks the scope a throttle names for every worker, and stops
the round at the first answer after which the platform must not be called again (throttled,
token, permission, server). The collector then commits what was kept, whatever stopped it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from connectors import metrics
from connectors.http import ApiProblem
from connectors.rate_budget import MustWait
from connectors.records import RawRecord

if TYPE_CHECKING:
    import httpx

    from analisa.core.settings import Settings
    from connectors.platform import Classifier, RateRules
    from connectors.rate_budget import RateBudget
    from connectors.tasks import CollectionTask
    from connectors.tokens import TokenSet

# Problems after which the platform must not be called again in this round.
STOPPING = frozenset({"throttled", "token_invalid", "permission", "server"})
# A round under a shared limit that binds gives its worker up this often while other accounts'
# work is due, so every account's round starts within the limit's first window (see yield_due).
YIELD_EVERY_CALLS = 5
YIELD_SECONDS = 1.0


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
    rates: RateRules | None = None
    clock: Callable[[], float] = time.time
    state: dict[str, Any] = field(default_factory=dict)
    """The account's cadence state: last_full_listing_at, last_old_insights_at (epoch s)."""
    did: dict[str, bool] = field(default_factory=dict)
    """What this round covered (full_listing, old_insights), for the account's cadence."""
    checkpoint: dict[str, Any] = field(default_factory=dict)
    """Progress carried from the previous attempt of this round; the routine updates it."""
    records: list[RawRecord] = field(default_factory=list)
    malformed: int = 0
    skipped: list[str] = field(default_factory=list)
    """Objects skipped with a reason (a refused media's insights), the round went on."""
    on_progress: Callable[[RoundSession], None] | None = None
    """Commits the records kept so far with the checkpoint (a long round survives a crash)."""
    flushed: int = 0
    """How many of `records` on_progress has committed already."""
    flush_every: int = 10
    others_due: Callable[[], bool] | None = None
    """Whether another account of this platform has work due that nobody is collecting."""
    yield_every: int = YIELD_EVERY_CALLS
    yield_checked: int = 0
    """How many of `records` there were when yield_due last asked."""

    def before_call(self, endpoint: str) -> None:
        """Wait for the shared budget, or end the round with the exact time to come back.

        Before the call, every earlier answer and the checkpoint that says so agree: this is
        where progress is committed, every `flush_every` answers.
        """
        if self.on_progress is not None and len(self.records) - self.flushed >= self.flush_every:
            self.on_progress(self)
        if self.rates is None:
            return
        account = self.task.account_id
        scopes = self.rates.scopes(endpoint, account, self.settings)
        if self.yield_due(scopes):
            message = "yielding the worker: a shared limit binds and other accounts' work is due"
            raise RoundStopped(ApiProblem("throttled", message, YIELD_SECONDS, code="yield"))
        waited = self.budget.waited_seconds
        try:
            self.budget.acquire(scopes)
        except MustWait as wait:
            metrics.count_throttle(wait.scope, "budget", account)
            problem = ApiProblem("throttled", str(wait), wait.seconds, code="budget")
            raise RoundStopped(problem) from None
        finally:
            inline = self.budget.waited_seconds - waited
            if inline > 0:
                metrics.count_throttle(self.budget.last_wait_scope, "budget", account)
                metrics.add_wait(self.task.platform, inline, "inline")
        for scope in scopes:  # a sliding window's fill is its quota used
            if scope.window_limit and scope.key in self.budget.window_fill:
                percent = 100.0 * self.budget.window_fill[scope.key] / scope.window_limit
                metrics.QUOTA.report(scope.key, percent, account)

    def yield_due(self, scopes) -> bool:
        """Round-robin under a shared limit: every `yield_every` calls, end this attempt (its
        progress is committed and it resumes from the checkpoint within a second, behind the
        work already queued) when a limit every account shares is known to bind (its usage
        implied a limit, see RateBudget.record_usage) and another account's work is due.

        Run to the end instead, the first accounts would spend the shared window and the
        last ones start only in a late window; where an account's own budget is smaller than
        its round, their rounds then need one window more than the shared limit does."""
        if self.others_due is None or self.yield_every <= 0:
            return False
        if len(self.records) - self.yield_checked < self.yield_every:
            return False
        self.yield_checked = len(self.records)
        account = self.task.account_id
        shared = [s for s in scopes if s.metered and account not in s.key]
        if not any(self.budget.limit_estimate(s.key) is not None for s in shared):
            return False
        return self.others_due()

    def _observe(self, record: RawRecord, headers, problem: ApiProblem | None) -> None:
        if self.rates is None:
            return
        account = self.task.account_id
        throttled = problem is not None and problem.kind == "throttled"
        for scope, (percent, regain) in self.rates.usage(headers or {}, account).items():
            metrics.QUOTA.report(scope, percent, account)
            self.budget.record_usage(
                scope, percent, self.rates.usage_window_seconds, estimate=not throttled
            )
            if regain:  # the platform says how long: believe it
                self.budget.block(scope, regain)
            elif percent >= 100 and not throttled:  # a throttle says its own wait below
                metrics.count_throttle(scope, "usage_header", account)
                # full and silent on when (X-App-Usage): wait until our oldest logged call
                # leaves the window, or a minute when we logged none
                frees = self.budget.window_frees_in(scope, self.rates.usage_window_seconds)
                self.budget.block(scope, frees if frees is not None else 60.0)
        if throttled:
            scope = self.rates.blocks_on(problem, account, record.endpoint, self.settings)
            metrics.count_throttle(scope, "platform", account)
            self.budget.block(scope, float(problem.retry_after_seconds or 60))

    def take(self, record: RawRecord, headers: Mapping[str, str] | None = None) -> RawRecord:
        """Keep one answer; raise RoundStopped when the platform must not be called again.

        `headers` are the answer's (usage headers say how long a throttle lasts).
        """
        self.records.append(record)
        self.budget.count_call(record.platform, record.endpoint)
        problem = self.classify(record, headers)
        metrics.count_call(record.platform, record.endpoint, problem.kind if problem else None)
        self._observe(record, headers, problem)
        if problem is not None:
            if problem.kind == "malformed":
                self.malformed += 1
            if problem.kind in STOPPING:
                raise RoundStopped(problem)
        return record

    def take_object(
        self,
        record: RawRecord,
        headers: Mapping[str, str] | None = None,
        what: str | None = None,
    ) -> RawRecord | None:
        """Keep the answer of a per-object call (one media's insights, one probe).

        A refusal about that object alone (permission, missing, other) skips it with a reason
        and the round goes on; throttling, token and server problems still end the round.
        Returns the record when usable, None when skipped; `what` names the skipped thing
        (default: the endpoint and the object id).
        """
        self.records.append(record)
        self.budget.count_call(record.platform, record.endpoint)
        problem = self.classify(record, headers)
        metrics.count_call(record.platform, record.endpoint, problem.kind if problem else None)
        self._observe(record, headers, problem)
        if problem is None:
            return record
        if problem.kind in ("throttled", "token_invalid", "server"):
            raise RoundStopped(problem)
        if problem.kind == "malformed":
            self.malformed += 1
        what = what or f"{record.endpoint} {record.object_id}"
        self.skipped.append(f"{what}: {problem.kind} {problem.code}")
        return None

    def due(self, what: str, every_seconds: float) -> bool:
        """Whether a slower-cadence part (`last_<what>_at`) is due in this round."""
        last = self.state.get(f"last_{what}_at")
        return last is None or self.clock() - last >= every_seconds

    def take_all(self, records: Iterable[RawRecord]) -> list[RawRecord]:
        return [self.take(r) for r in records]


def usable_json(record: RawRecord) -> dict[str, Any] | None:
    """The body of a 200 answer that is a JSON object, else None (an error or malformed page)."""
    body = record.body
    return body if record.status == 200 and isinstance(body, dict) else None
