"""The collector worker: one task in, one transaction out.

fetch everything the task asks for → write the raw records and the task's ledger row in ONE
transaction → only then may the queue ack. A redelivered task finds its ledger row and changes
nothing; a crash before the commit leaves nothing behind and the redelivery does the work.
"""

from __future__ import annotations

import logging

import httpx
import psycopg

from analisa.core.crypto import TokenVault
from analisa.core.logging import log_context
from analisa.core.settings import Settings
from connectors.bronze_writer import write_records
from connectors.http import ApiProblem
from connectors.probes import posts_to_probe
from connectors.rate_budget import RateBudget
from connectors.records import RawRecord
from connectors.registry import UnknownPlatformError, connector
from connectors.rounds import RoundSession, RoundStopped
from connectors.tasks import CollectionTask, Outcome
from connectors.token_store import load_token, save_token
from connectors.tokens import TokenSet

log = logging.getLogger(__name__)


class Collector:
    def __init__(
        self,
        settings: Settings,
        db_url: str,
        http: httpx.Client | None = None,
        budget: RateBudget | None = None,
    ):
        self.settings = settings
        self.db_url = db_url
        self.http = http or httpx.Client(timeout=httpx.Timeout(30.0), follow_redirects=False)
        self.budget = budget or RateBudget()
        self.vault = TokenVault(settings.vault_key.get_secret_value())
        self.stats: dict[str, int] = {"malformed": 0}

    # -- the handler the queue calls ---------------------------------------------------------
    def __call__(self, task: CollectionTask) -> Outcome:
        return self.handle(task)

    def handle(self, task: CollectionTask) -> Outcome:
        with log_context(task_id=task.task_id):
            return self._handle(task)

    def _handle(self, task: CollectionTask) -> Outcome:
        with psycopg.connect(self.db_url) as conn:
            if _ledger_has(conn, task.task_id):
                return Outcome.done(reason="already committed (redelivery)")
            token = load_token(conn, self.vault, task.platform, task.account_id)
        if token is None:
            return Outcome.park("no OAuth token: the account must connect first")
        wait = self.budget.blocked_for(task.platform, task.account_id)
        if wait > 0:
            return Outcome.retry(wait, "platform asked us to wait")

        try:
            platform = connector(task.platform)
        except UnknownPlatformError as exc:
            return Outcome.park(str(exc))
        records, problem = self._collect(platform.collect, platform.classify, task, token)
        outcome = self._decide(task, token, problem)
        written = self._commit(task, records, outcome)
        if written is None:
            return Outcome.done(reason="already committed (concurrent redelivery)")
        return Outcome(outcome.kind, outcome.delay_seconds, outcome.reason, records=written)

    def _collect(self, routine, classify, task: CollectionTask, token: TokenSet):
        """Run the platform's routine; whatever stops it, keep every answer that arrived."""
        session = RoundSession(
            settings=self.settings,
            http=self.http,
            task=task,
            token=token,
            budget=self.budget,
            classify=classify,
            posts_to_probe=lambda: self._posts_to_probe(task),
        )
        problem = None
        try:
            routine(session)
        except RoundStopped as stop:
            problem = stop.problem
        except httpx.TransportError as exc:
            # the network failed, not the platform: keep what arrived, retry the task later
            problem = ApiProblem("server", f"network error: {exc!r}")
        self.stats["malformed"] += session.malformed
        return session.records, problem

    def _posts_to_probe(self, task: CollectionTask) -> list[str]:
        with psycopg.connect(self.db_url) as conn:
            return posts_to_probe(conn, task.platform, task.account_id)

    # -- decisions -------------------------------------------------------------------------------
    def _decide(self, task: CollectionTask, token: TokenSet, problem) -> Outcome:
        if problem is None:
            return Outcome.done()
        if problem.kind == "throttled":
            delay = max(float(problem.retry_after_seconds or 60), 1.0)
            self.budget.block(task.platform, task.account_id, delay)
            return Outcome.retry(delay, f"throttled: {problem.message}")
        if problem.kind == "token_invalid":
            if self._refresh(token):
                return Outcome.retry(0, "token refreshed")
            return Outcome.park(f"token invalid and not refreshable: {problem.message}")
        if problem.kind == "permission":
            return Outcome.park(f"permission refused: {problem.message}")
        return Outcome.retry(30, f"{problem.kind}: {problem.message}")

    def _refresh(self, token: TokenSet) -> bool:
        try:
            fresh = connector(token.platform).oauth(self.settings, self.http).refresh(token)
        except Exception as exc:  # any refusal means a human must reconnect the account
            log.warning("token refresh failed for %s/%s: %s", token.platform, token.account_id, exc)
            return False
        with psycopg.connect(self.db_url) as conn, conn.transaction():
            save_token(conn, self.vault, fresh)
        return True

    def _commit(
        self, task: CollectionTask, records: list[RawRecord], outcome: Outcome
    ) -> int | None:
        with psycopg.connect(self.db_url) as conn, conn.transaction():
            # Two deliveries of one task racing: the second waits here, then sees the ledger row.
            conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (task.task_id,))
            if _ledger_has(conn, task.task_id):
                return None
            written = write_records(conn, records)
            conn.execute(
                "insert into bronze.collection_ledger "
                "(task_id, platform, account_id, round_id, records, outcome, detail) "
                "values (%s, %s, %s, %s, %s, %s, %s)",
                (
                    task.task_id,
                    task.platform,
                    task.account_id,
                    task.round_id,
                    written,
                    outcome.kind,
                    outcome.reason or None,
                ),
            )
        return written


def _ledger_has(conn: psycopg.Connection, task_id: str) -> bool:
    row = conn.execute(
        "select 1 from bronze.collection_ledger where task_id = %s", (task_id,)
    ).fetchone()
    return row is not None
