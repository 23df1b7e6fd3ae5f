"""The collector worker: one task in, one transaction out.

fetch everything the task asks for → write the raw records and the task's ledger row in ONE
transaction → only then may the queue ack. A redelivered task finds its ledger row and changes
nothing; a crash before the commit leaves nothing behind and the redelivery does the work.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import httpx
import psycopg

from analisa.core.crypto import TokenVault
from analisa.core.settings import Settings
from connectors.bronze_writer import write_records
from connectors.http import ApiProblem
from connectors.rate_budget import RateBudget
from connectors.records import RawRecord
from connectors.tasks import CollectionTask, Outcome
from connectors.token_store import load_token, save_token
from connectors.tokens import TokenSet

log = logging.getLogger(__name__)

INSTAGRAM_BREAKDOWNS = ("age", "gender", "age,gender", "country", "city")
# Problems after which the platform must not be called again in this task.
_STOPPING = frozenset({"throttled", "token_invalid", "permission", "server"})


class _Stop(Exception):
    def __init__(self, problem):
        super().__init__(problem.kind)
        self.problem = problem


@dataclass
class _Fetch:
    """Records of one task, in call order, and the first problem that stopped it."""

    budget: RateBudget
    classify: Callable[[RawRecord], object]
    records: list[RawRecord] = field(default_factory=list)
    malformed: int = 0

    def take(self, record: RawRecord) -> RawRecord:
        self.records.append(record)
        self.budget.count_call(record.platform, record.endpoint)
        problem = self.classify(record)
        if problem is not None:
            if problem.kind == "malformed":
                self.malformed += 1
            if problem.kind in _STOPPING:
                raise _Stop(problem)
        return record

    def take_all(self, records: Iterable[RawRecord]) -> list[RawRecord]:
        return [self.take(r) for r in records]


def _ok_json(record: RawRecord) -> dict | None:
    body = record.body
    return body if record.status == 200 and isinstance(body, dict) else None


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
        with psycopg.connect(self.db_url) as conn:
            if _ledger_has(conn, task.task_id):
                return Outcome.done(reason="already committed (redelivery)")
            token = load_token(conn, self.vault, task.platform, task.account_id)
        if token is None:
            return Outcome.park("no OAuth token: the account must connect first")
        wait = self.budget.blocked_for(task.platform, task.account_id)
        if wait > 0:
            return Outcome.retry(wait, "platform asked us to wait")

        if task.platform == "instagram":
            fetch = self._collect_instagram(task, token)
        elif task.platform == "tiktok":
            fetch = self._collect_tiktok(task, token)
        else:
            return Outcome.park(f"unknown platform {task.platform!r}")
        records, problem = fetch
        outcome = self._decide(task, token, problem)
        written = self._commit(task, records, outcome)
        if written is None:
            return Outcome.done(reason="already committed (concurrent redelivery)")
        return Outcome(outcome.kind, outcome.delay_seconds, outcome.reason, records=written)

    # -- platform walks --------------------------------------------------------------------------
    def _collect_instagram(self, task: CollectionTask, token: TokenSet):
        from connectors.instagram.client import InstagramClient
        from connectors.instagram.errors import classify

        client = InstagramClient(
            self.http,
            self.settings.instagram_graph_url,
            self.settings.instagram_graph_version,
            token.access_token,
            task.account_id,
            task.round_id,
            task_id=task.task_id,
        )
        # the usage headers say how long a throttle lasts (and unmask a throttle posing as 100/33)
        fetch = _Fetch(self.budget, lambda record: classify(record, client.last_headers))
        try:
            fetch.take(client.profile())
            posts: list[tuple[str, str]] = []
            complete = False
            for page in client.media_pages():
                fetch.take(page)
                body = _ok_json(page)
                if body is None or not isinstance(body.get("data"), list):
                    break  # malformed or error page: this listing is incomplete
                posts += [(m["id"], m.get("media_type", "")) for m in body["data"] if "id" in m]
                complete = not (body.get("paging") or {}).get("next")
            for media_id, media_type in posts:
                fetch.take(client.media_insights(media_id, media_type))
            for breakdown in INSTAGRAM_BREAKDOWNS:
                fetch.take(client.audience(breakdown))
            if complete:
                listed = {p[0] for p in posts}
                with psycopg.connect(self.db_url) as conn:
                    vanished = _vanished_instagram(conn, task.account_id, listed)
                for media_id in vanished:
                    fetch.take(client.media_object(media_id))
        except _Stop as stop:
            self.stats["malformed"] += fetch.malformed
            return fetch.records, stop.problem
        except httpx.TransportError as exc:
            # the network failed, not the platform: keep what arrived, retry the task later
            self.stats["malformed"] += fetch.malformed
            return fetch.records, ApiProblem("server", f"network error: {exc!r}")
        self.stats["malformed"] += fetch.malformed
        return fetch.records, None

    def _collect_tiktok(self, task: CollectionTask, token: TokenSet):
        from connectors.tiktok.client import TikTokClient
        from connectors.tiktok.errors import classify

        client = TikTokClient(
            self.http,
            self.settings.tiktok_api_url,
            token.access_token,
            task.account_id,
            task.round_id,
            task_id=task.task_id,
        )
        fetch = _Fetch(self.budget, classify)
        try:
            fetch.take(client.user_info())
            listed: set[str] = set()
            complete = False
            for page in client.video_pages():
                fetch.take(page)
                body = _ok_json(page)
                data = (body or {}).get("data")
                if not isinstance(data, dict) or not isinstance(data.get("videos"), list):
                    break
                listed |= {str(v["id"]) for v in data["videos"] if "id" in v}
                complete = not data.get("has_more")
            if complete:
                with psycopg.connect(self.db_url) as conn:
                    vanished = _vanished_tiktok(conn, task.account_id, listed)
                # one id per request, so each answer says which post it is about
                for video_id in vanished:
                    fetch.take_all(client.video_query([video_id]))
        except _Stop as stop:
            self.stats["malformed"] += fetch.malformed
            return fetch.records, stop.problem
        except httpx.TransportError as exc:
            # the network failed, not the platform: keep what arrived, retry the task later
            self.stats["malformed"] += fetch.malformed
            return fetch.records, ApiProblem("server", f"network error: {exc!r}")
        self.stats["malformed"] += fetch.malformed
        return fetch.records, None

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
            if token.platform == "instagram":
                from connectors.instagram.oauth import InstagramOAuth as OAuth
            else:
                from connectors.tiktok.oauth import TikTokOAuth as OAuth
            fresh = OAuth.from_settings(self.settings, self.http).refresh(token)
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


def _vanished_instagram(conn: psycopg.Connection, account_id: str, listed: set[str]) -> list[str]:
    """Posts listed before, absent from this complete listing, not yet confirmed gone."""
    rows = conn.execute(
        """
        select distinct m.id from (
            select e ->> 'id' as id
            from bronze.instagram_media r
            cross join lateral jsonb_array_elements(
                case when jsonb_typeof(r.body -> 'data') = 'array' then r.body -> 'data'
                     else '[]'::jsonb end) e
            where r.account_id = %s and r.http_status = 200
        ) m
        where m.id is not null and not exists (
            select 1 from bronze.instagram_media_object o
            where o.account_id = %s and o.object_id = m.id and o.http_status = 400
        )
        order by 1
        """,
        (account_id, account_id),
    ).fetchall()
    return [r[0] for r in rows if r[0] not in listed]


def _vanished_tiktok(conn: psycopg.Connection, account_id: str, listed: set[str]) -> list[str]:
    rows = conn.execute(
        """
        select distinct v.id from (
            select e ->> 'id' as id
            from bronze.tiktok_video_list r
            cross join lateral jsonb_array_elements(
                case when jsonb_typeof(r.body -> 'data' -> 'videos') = 'array'
                     then r.body -> 'data' -> 'videos' else '[]'::jsonb end) e
            where r.account_id = %s and r.http_status = 200
        ) v
        where v.id is not null and not exists (
            select 1 from bronze.tiktok_video_query q
            where q.account_id = %s and q.object_id = v.id and q.http_status = 200
              and q.body -> 'error' ->> 'code' = 'ok'
              and not exists (
                  select 1 from jsonb_array_elements(
                      case when jsonb_typeof(q.body -> 'data' -> 'videos') = 'array'
                           then q.body -> 'data' -> 'videos' else '[]'::jsonb end) f
                  where f ->> 'id' = v.id)
        )
        order by 1
        """,
        (account_id, account_id),
    ).fetchall()
    return [r[0] for r in rows if r[0] not in listed]
