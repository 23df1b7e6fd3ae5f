"""The collector worker: one task in, one transaction out.

fetch everything the task asks for → decide the outcome (done, retry at T, park with a reason)
→ write the raw records, the ledger row with that outcome, the retry to publish (the outbox)
and the account's state in ONE transaction → only then may the queue ack. A redelivered task
finds its ledger row and acts on the outcome recorded there (its retry is already in the
outbox); a crash before the commit leaves nothing behind and the redelivery does the work.
One account is collected by one worker at a time (a session advisory lock). An account on
the suppression list (erased at its owner's request) is neither called nor stored: its task is
acknowledged as done with the reason "suppressed", leaving no ledger row or state behind.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import psycopg
from psycopg.types.json import Jsonb

from analisa.core.crypto import VaultError
from analisa.core.logging import log_context
from analisa.core.settings import Settings
from connectors import discovery_token, suppression
from connectors.bronze_writer import write_records
from connectors.http import ApiProblem
from connectors.outbox import others_due, schedule, ts
from connectors.probes import posts_to_probe
from connectors.rate_budget import RateBudget
from connectors.records import RawRecord
from connectors.registry import UnknownPlatformError, connector
from connectors.rounds import RoundSession, RoundStopped
from connectors.tasks import CollectionTask, Outcome
from connectors.token_refresh import NeedsReauth, mark_needs_reauth, refresh_if_due
from connectors.token_store import load_token, vault_for
from connectors.tokens import TokenSet

log = logging.getLogger(__name__)

# Failed attempts (server, network, malformed) before a task is parked; waits never count.
MAX_FAILURES = 6
# Delay before the next attempt after the n-th failure (the last one repeats).
FAILURE_DELAYS_SECONDS = (30, 120, 600, 1800, 3600)
# An account collected successfully is due again after this long, unless settings say otherwise.
DEFAULT_INTERVAL_SECONDS = 6 * 3600
SUPPRESSED = "suppressed"


class Collector:
    def __init__(
        self,
        settings: Settings,
        db_url: str,
        http: httpx.Client | None = None,
        budget: RateBudget | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self.settings = settings
        self.db_url = db_url
        self.http = http or httpx.Client(timeout=httpx.Timeout(30.0), follow_redirects=False)
        self.budget = budget or RateBudget()
        self.vault = vault_for(settings)
        self.clock = clock
        self.interval_seconds = float(
            getattr(settings, "collection_interval_seconds", DEFAULT_INTERVAL_SECONDS)
        )
        self.stats: dict[str, int] = {"malformed": 0, "suppressed": 0}
        key = getattr(settings, "pseudonym_key", None)
        self.pseudonym_key = key.get_secret_value() if key is not None else None

    # -- the handler the queue calls ---------------------------------------------------------
    def __call__(self, task: CollectionTask) -> Outcome:
        return self.handle(task)

    def handle(self, task: CollectionTask) -> Outcome:
        with log_context(task_id=task.task_id):
            return self._handle(task)

    def _handle(self, task: CollectionTask) -> Outcome:
        # One account, one worker: a second delivery (or a stray task) waits for the first.
        with psycopg.connect(self.db_url, autocommit=True) as lock_conn:
            lock_conn.execute(
                "select pg_advisory_lock(hashtext(%s))",
                (f"collect:{task.platform}:{task.account_id}",),
            )
            return self._handle_locked(task)

    def _suppressed(self, conn: psycopg.Connection, task: CollectionTask) -> bool:
        if self.pseudonym_key is None:
            return False
        return suppression.is_suppressed(conn, self.pseudonym_key, task.platform, task.account_id)

    def _drop_suppressed(self, task: CollectionTask) -> Outcome:
        # counted without the account id: the log line names the task's run only
        self.stats["suppressed"] += 1
        log.info("a task of run %s dropped: its account is suppressed", task.run_id)
        return Outcome.done(reason=SUPPRESSED)

    def _handle_locked(self, task: CollectionTask) -> Outcome:
        with psycopg.connect(self.db_url) as conn:
            if self._suppressed(conn, task):
                return self._drop_suppressed(task)
            recorded = recorded_outcome(conn, task.task_id)
            if recorded is not None:
                return recorded
            state = _account_state(conn, task)
            if state.get("kind") == "public":
                return self._handle_public(conn, task, state)
            try:
                token = load_token(conn, self.vault, task.platform, task.account_id)
            except VaultError as exc:
                unreadable = f"token does not decrypt: {exc}"
            else:
                unreadable = None
        if unreadable is not None:
            # this account's token is unreadable (a changed key): mark it, not the run
            with psycopg.connect(self.db_url) as conn, conn.transaction():
                mark_needs_reauth(conn, task.platform, task.account_id, unreadable)
            return self._commit(task, [], Outcome.park(f"needs_reauth: {unreadable}"))
        if token is None:
            return self._commit(
                task, [], Outcome.park("no OAuth token: the account must connect first")
            )
        try:
            platform = connector(task.platform)
        except UnknownPlatformError as exc:
            return self._commit(task, [], Outcome.park(str(exc)))
        try:
            token = self._fresh_token(platform, token)
        except NeedsReauth as exc:
            return self._commit(task, [], Outcome.park(f"needs_reauth: {exc}"))
        session = self._collect(platform, task, token, state)
        outcome = self._decide(task, token, session.problem)
        if outcome.kind == "done" and session.skipped:
            shown = "; ".join(session.skipped[:5])
            more = f" (+{len(session.skipped) - 5} more)" if len(session.skipped) > 5 else ""
            outcome = Outcome.done(reason=f"skipped {len(session.skipped)}: {shown}{more}")
        return self._commit(task, session.records[session.flushed :], outcome, session)

    def _handle_public(self, conn, task: CollectionTask, state: dict) -> Outcome:
        """A creator who has not connected: Business Discovery through the brand's login."""
        platform = connector(task.platform)
        if platform.collect_public is None:
            conn.commit()
            return self._commit(
                task, [], Outcome.park(f"{task.platform} offers no access to public creators")
            )
        try:
            token, problem = discovery_token.load_usable(conn, self.vault)
        except VaultError as exc:
            token, problem = None, f"the Facebook Login token does not decrypt: {exc}"
        conn.commit()
        if token is None:
            return self._commit(task, [], Outcome.park(f"needs_reauth: {problem}"))
        try:  # renewed before it expires (connectors/discovery_token.py)
            token = discovery_token.renew_if_due(
                self.settings,
                self.http,
                self.db_url,
                self.vault,
                token,
                datetime.fromtimestamp(self.clock(), tz=UTC),
                timedelta(seconds=float(getattr(self.settings, "token_refresh_window_seconds", 0))),
            )
        except NeedsReauth as exc:
            return self._commit(task, [], Outcome.park(f"needs_reauth: {exc}"))
        session = self._collect(platform, task, token, state, routine=platform.collect_public)
        if session.problem is not None and session.problem.kind == "token_invalid":
            with psycopg.connect(self.db_url) as mark, mark.transaction():
                reason = f"the token was refused ({session.problem.message}): "
                discovery_token.mark_needs_reauth(
                    mark, token.account_id, reason + discovery_token.LOGIN_AGAIN
                )
        outcome = self._decide(task, token, session.problem)
        return self._commit(task, session.records[session.flushed :], outcome, session)

    def _collect(self, platform, task: CollectionTask, token: TokenSet, state: dict, routine=None):
        """Run the platform's routine; whatever stops it, keep every answer that arrived."""
        checkpoint = state.pop("checkpoint", None) or {}
        if checkpoint.get("round") != task.round_id:
            checkpoint = {"round": task.round_id}  # a new round starts from the beginning
        session = RoundSession(
            settings=self.settings,
            http=self.http,
            task=task,
            token=token,
            budget=self.budget,
            classify=platform.classify,
            posts_to_probe=lambda: self._posts_to_probe(task),
            rates=platform.rates,
            clock=self.clock,
            state=state,
            checkpoint=checkpoint,
            on_progress=self._commit_progress,
            others_due=lambda: others_due(
                self.db_url, task.platform, task.account_id, self.clock()
            ),
        )
        session.problem = None
        session.progress_written = 0
        try:
            (routine or platform.collect)(session)
        except RoundStopped as stop:
            session.problem = stop.problem
        except httpx.TransportError as exc:
            # the network failed, not the platform: keep what arrived, retry the task later
            session.problem = ApiProblem("server", f"network error: {exc!r}")
        self.stats["malformed"] += session.malformed
        return session

    def _commit_progress(self, session: RoundSession) -> None:
        """Records so far and the checkpoint that covers them, in one transaction (no ledger
        row yet): a crash later in the round resumes from here instead of the beginning."""
        task = session.task
        with psycopg.connect(self.db_url) as conn, conn.transaction():
            conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (task.task_id,))
            if recorded_outcome(conn, task.task_id) is not None:
                raise RoundStopped(ApiProblem("other", "another delivery committed this task"))
            if self._suppressed(conn, task):
                raise RoundStopped(ApiProblem("other", SUPPRESSED))
            session.progress_written += write_records(
                conn, session.records[session.flushed :], pseudonym_key=self.pseudonym_key
            )
            conn.execute(
                "update ops.account_state set checkpoint = %s "
                "where platform = %s and account_id = %s",
                (Jsonb(session.checkpoint), task.platform, task.account_id),
            )
        session.flushed = len(session.records)

    def _posts_to_probe(self, task: CollectionTask) -> list[str]:
        with psycopg.connect(self.db_url) as conn:
            return posts_to_probe(conn, task.platform, task.account_id)

    # -- decisions -------------------------------------------------------------------------------
    def _decide(self, task: CollectionTask, token: TokenSet, problem) -> Outcome:
        if problem is None:
            return Outcome.done()
        if problem.kind == "throttled":
            # the session already blocked the scope the platform named, for every worker;
            # this task waits as long, in the outbox, without using up an attempt
            delay = max(float(problem.retry_after_seconds or 60), 1.0)
            return Outcome.wait(delay, f"throttled: {problem.message}")
        if problem.kind == "token_invalid":
            if self._refresh(token):
                return Outcome.retry(0, "token refreshed")
            return Outcome.park(f"needs_reauth: token invalid, not refreshable: {problem.message}")
        if problem.kind == "permission":
            return Outcome.park(f"permission refused: {problem.message}")
        delay = FAILURE_DELAYS_SECONDS[min(task.failures, len(FAILURE_DELAYS_SECONDS) - 1)]
        return Outcome.retry(delay, f"{problem.kind}: {problem.message}")

    def _fresh_token(self, platform, token: TokenSet, force: bool = False) -> TokenSet:
        """The token refreshed before it expires (or after a 401 with `force`)."""

        def now() -> datetime:
            return datetime.fromtimestamp(self.clock(), tz=UTC)

        return refresh_if_due(
            self.db_url,
            self.vault,
            platform.oauth(self.settings, self.http, clock=now),
            token,
            now(),
            timedelta(seconds=float(getattr(self.settings, "token_refresh_window_seconds", 0))),
            force=force,
        )

    def _refresh(self, token: TokenSet) -> bool:
        """After a 401: refresh now; False when the account needs a human to reconnect."""
        try:
            self._fresh_token(connector(token.platform), token, force=True)
        except UnknownPlatformError:  # a Facebook Login token: only a new login renews it
            return False
        except NeedsReauth as exc:
            log.warning("%s/%s needs reauth: %s", token.platform, token.account_id, exc)
            return False
        return True

    def _commit(
        self,
        task: CollectionTask,
        records: list[RawRecord],
        outcome: Outcome,
        session: RoundSession | None = None,
    ) -> Outcome:
        """Records, ledger row, the retry to publish and the account's state: all or nothing."""
        if outcome.kind == "retry" and outcome.failed and task.failures + 1 >= MAX_FAILURES:
            outcome = Outcome.park(f"gave up after {MAX_FAILURES} failures: {outcome.reason}")
        now = self.clock()
        with psycopg.connect(self.db_url) as conn, conn.transaction():
            # Two deliveries of one task racing: the second waits here, then sees the ledger row.
            conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (task.task_id,))
            recorded = recorded_outcome(conn, task.task_id)
            if recorded is not None:
                return recorded
            if self._suppressed(conn, task):  # erased while this task ran: store nothing
                return self._drop_suppressed(task)
            written = write_records(conn, records, pseudonym_key=self.pseudonym_key)
            if session is not None:
                written += getattr(session, "progress_written", 0)
            next_task, retry_at = None, None
            if outcome.kind == "retry":
                next_task = task.next_attempt(failed=outcome.failed)
                retry_at = now + max(0.0, outcome.delay_seconds)
                schedule(conn, next_task, retry_at, caused_by=task.task_id)
            conn.execute(
                "insert into bronze.collection_ledger (task_id, platform, account_id, round_id, "
                "records, outcome, detail, retry_at, failures, next_task) "
                "values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    task.task_id,
                    task.platform,
                    task.account_id,
                    task.round_id,
                    written,
                    outcome.kind,
                    outcome.reason or None,
                    ts(retry_at) if retry_at is not None else None,
                    task.failures + int(outcome.kind == "retry" and outcome.failed),
                    next_task.task_id if next_task else None,
                ),
            )
            _record_account_state(conn, task, outcome, now, now + self.interval_seconds)
            if session is not None:
                _record_progress(conn, task, outcome, session, now)
        return Outcome(
            outcome.kind,
            outcome.delay_seconds,
            outcome.reason,
            records=written,
            failed=outcome.failed,
        )


def _record_account_state(
    conn: psycopg.Connection, task: CollectionTask, outcome: Outcome, now: float, due: float
) -> None:
    """The account's state after this task, in the task's own transaction."""
    conn.execute(
        "insert into ops.account_state (platform, account_id) values (%s, %s) "
        "on conflict do nothing",
        (task.platform, task.account_id),
    )
    if outcome.kind == "done":
        conn.execute(
            "update ops.account_state set last_attempt_at = %s, last_success_at = %s, "
            "next_due_at = %s, pending_task_id = null, pending_since = null, "
            "parked_task_id = null, parked_reason = null, parked_at = null "
            "where platform = %s and account_id = %s",
            (ts(now), ts(now), ts(due), task.platform, task.account_id),
        )
    elif outcome.kind == "park":
        conn.execute(
            "update ops.account_state set last_attempt_at = %s, pending_task_id = null, "
            "pending_since = null, parked_task_id = %s, parked_reason = %s, parked_at = %s "
            "where platform = %s and account_id = %s",
            (ts(now), task.task_id, outcome.reason, ts(now), task.platform, task.account_id),
        )
    else:  # retry: schedule() already made the next task the pending one
        conn.execute(
            "update ops.account_state set last_attempt_at = %s "
            "where platform = %s and account_id = %s",
            (ts(now), task.platform, task.account_id),
        )


def _account_state(conn: psycopg.Connection, task: CollectionTask) -> dict:
    row = conn.execute(
        "select s.checkpoint, extract(epoch from s.last_full_listing_at), "
        "extract(epoch from s.last_old_insights_at), s.kind, a.username "
        "from ops.account_state s left join ops.accounts a using (platform, account_id) "
        "where s.platform = %s and s.account_id = %s",
        (task.platform, task.account_id),
    ).fetchone()
    if row is None:
        return {}
    checkpoint, full, old, kind, username = row
    return {
        "kind": kind,
        "username": username,
        "checkpoint": checkpoint,
        "last_full_listing_at": float(full) if full is not None else None,
        "last_old_insights_at": float(old) if old is not None else None,
    }


def _record_progress(
    conn: psycopg.Connection, task: CollectionTask, outcome: Outcome, session, now: float
) -> None:
    """A retry keeps the round's checkpoint; a finished round records what it covered."""
    if outcome.kind == "retry":
        conn.execute(
            "update ops.account_state set checkpoint = %s where platform = %s and account_id = %s",
            (Jsonb(session.checkpoint), task.platform, task.account_id),
        )
        return
    full = outcome.kind == "done" and session.did.get("full_listing")
    old = outcome.kind == "done" and session.did.get("old_insights")
    conn.execute(
        "update ops.account_state set checkpoint = null, "
        "last_full_listing_at = case when %s then %s else last_full_listing_at end, "
        "last_old_insights_at = case when %s then %s else last_old_insights_at end "
        "where platform = %s and account_id = %s",
        (bool(full), ts(now), bool(old), ts(now), task.platform, task.account_id),
    )


def recorded_outcome(conn: psycopg.Connection, task_id: str) -> Outcome | None:
    """The outcome a committed task recorded (a redelivery acts on it), None if uncommitted."""
    row = conn.execute(
        "select outcome, detail, "
        "coalesce(extract(epoch from retry_at - committed_at), 0) "
        "from bronze.collection_ledger where task_id = %s",
        (task_id,),
    ).fetchone()
    if row is None:
        return None
    kind, detail, delay = row
    return Outcome(kind, float(delay), detail or "", records=0, replayed=True)
