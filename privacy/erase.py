"""Erasure of one influencer (`analisa erase`): every trace, verified, audited, idempotent.

In this order, each step safe to repeat:
1. the account goes on the suppression list (committed first, under the suppression lock, so
   from here on no collection task or `analisa ingest` stores anything of it);
2. a collection of it in flight is waited for (the collector's per-account lock);
3. its OAuth tokens are revoked at the platform where the platform offers it;
4. in ONE transaction, every table of every schema (found in the catalog) loses the rows about
   the person and has their mentions scrubbed (privacy/scan.py): bronze bodies and rejected
   envelopes, silver, gold (incremental tables included), quarantine, the ledger, the outbox,
   the account's state, tokens, workspace lists; erasure requests keep only the pseudonym;
5. queued tasks of the account leave RabbitMQ (privacy/queue_purge.py);
6. the Redis cache forgets them (privacy/cache.py); Parquet exports are rewritten
   (privacy/export_files.py);
7. everything is searched again: rows, cache keys, queued tasks, export files;
8. the audit log records it under the pseudonym, with counts only.
A second run finds nothing left and says so. A gold build running at the same moment may have
read the bronze rows before step 4 committed: the verification then finds its rows, the command
fails, and running it again (or after that build) finishes the job.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg

from analisa.core.catalog import PLATFORMS
from analisa.core.crypto import pseudonymise
from analisa.core.settings import Settings
from connectors.suppression import subject_pseudonym
from privacy import audit, cache, export_files, queue_purge, tokens
from privacy.database import erase_rows, post_ids_of, remaining, usernames_of
from privacy.scan import Subject
from privacy.suppression import suppress
from privacy.tables import discover, unreadable


@dataclass
class ErasureReport:
    subject: str
    """The pseudonym: the only name the report, the audit log and the logs use."""
    platform: str
    newly_suppressed: bool = False
    tables: dict[str, dict[str, int]] = field(default_factory=dict)
    token: str = ""
    queue: dict[str, int] | None = None
    cache: dict[str, int] | None = None
    exports: dict[str, Any] | None = None
    remaining_rows: dict[str, int] = field(default_factory=dict)
    remaining_cache_keys: int = 0
    remaining_tasks: int = 0
    remaining_export_files: dict[str, int] = field(default_factory=dict)
    usernames_found: int = 0
    post_ids_found: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def rows_deleted(self) -> int:
        return sum(t.get("deleted", 0) for t in self.tables.values())

    @property
    def rows_scrubbed(self) -> int:
        return sum(t.get("scrubbed", 0) for t in self.tables.values())

    @property
    def found_anything(self) -> bool:
        return bool(
            self.tables
            or (self.queue or {}).get("dropped")
            or (self.cache or {}).get("keys_deleted")
            or (self.exports or {}).get("files_rewritten")
        )

    @property
    def clean(self) -> bool:
        return not (
            self.remaining_rows
            or self.remaining_cache_keys
            or self.remaining_tasks
            or self.remaining_export_files
            or self.problems
        )

    def details(self) -> dict[str, Any]:
        """For the audit log: counts and outcomes, no id, no username, no table contents."""
        return {
            "platform": self.platform,
            "rows_deleted": self.rows_deleted,
            "rows_scrubbed": self.rows_scrubbed,
            "tables": {name: counts for name, counts in sorted(self.tables.items())},
            "token": self.token,
            "queue": self.queue,
            "cache": self.cache,
            "exports": {k: v for k, v in (self.exports or {}).items() if k != "snapshot"},
            "remaining_rows": sum(self.remaining_rows.values()),
            "remaining_cache_keys": self.remaining_cache_keys,
            "remaining_tasks": self.remaining_tasks,
            "remaining_export_files": len(self.remaining_export_files),
            "problems": self.problems,
            "newly_suppressed": self.newly_suppressed,
        }


@dataclass
class Services:
    """Where the side stores are; None: that store is not configured (nothing to clean)."""

    redis_url: str | None = None
    redis_prefix: str = "analisa:"
    amqp_url: str | None = None
    queue_prefix: str = "analisa"
    export_root: str | None = None
    """A folder, or an fsspec URL (then rewritten through the exports package, not scanned)."""

    @classmethod
    def from_settings(cls, settings: Settings) -> Services:
        location = getattr(settings, "export_location", None) or str(settings.export_path)
        return cls(
            redis_url=settings.redis_url,
            redis_prefix=settings.redis_prefix,
            amqp_url=settings.amqp_url,
            queue_prefix=settings.queue_prefix,
            export_root=location,
        )


def _wait_for_collection(db_url: str, platform: str, account_id: str) -> None:
    """The collector holds this lock while it works on the account: wait for it to finish."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        lock = f"collect:{platform}:{account_id}"
        conn.execute("select pg_advisory_lock(hashtext(%s))", (lock,))
        conn.execute("select pg_advisory_unlock(hashtext(%s))", (lock,))


def erase(
    settings: Settings,
    db_url: str,
    platform: str,
    account_id: str,
    *,
    usernames: tuple[str, ...] = (),
    actor: str,
    services: Services | None = None,
    revoke: Callable[[Settings, str, str, str], str] = tokens.revoke,
    request_id: int | None = None,
) -> ErasureReport:
    account_id = account_id.strip()
    if not account_id:
        raise ValueError("an account id is required")
    if len(account_id) > 128 or any(ord(ch) < 32 for ch in account_id):
        raise ValueError("an account id is at most 128 printable characters")
    if platform not in PLATFORMS:
        raise ValueError(f"unknown platform (expected one of {', '.join(PLATFORMS)})")
    usernames = tuple(u for u in usernames if u and u.strip())
    if any(len(u) > 128 or any(ord(ch) < 32 for ch in u) for u in usernames):
        raise ValueError("a username is at most 128 printable characters")
    key = settings.pseudonym_key.get_secret_value()
    services = services or Services.from_settings(settings)
    pseudonym = subject_pseudonym(platform, account_id, key)
    report = ErasureReport(subject=pseudonym, platform=platform)
    try:
        _erase(settings, db_url, platform, account_id, usernames, services, revoke, report, key)
    except Exception as exc:
        report.problems.append(f"{type(exc).__name__}: the erasure stopped")
        _audit(db_url, actor, report, request_id)
        raise
    _audit(db_url, actor, report, request_id)
    return report


def _erase(settings, db_url, platform, account_id, given, services, revoke, report, key):
    with psycopg.connect(db_url) as conn:
        tables = discover(conn)
        found = usernames_of(conn, tables, platform, account_id)
        names = tuple(sorted({*(u.strip().lstrip("@") for u in given if u.strip()), *found}))
        report.usernames_found = len(names)
        with conn.transaction():
            report.newly_suppressed = suppress(conn, key, platform, account_id, names)
    _wait_for_collection(db_url, platform, account_id)
    report.token = revoke(settings, db_url, platform, account_id)

    with psycopg.connect(db_url) as conn, conn.transaction():
        tables = discover(conn)  # again: a table may have appeared meanwhile
        report.problems.extend(f"cannot read {name}: not searched" for name in unreadable(conn))
        subject = Subject(platform, account_id, names)
        posts = post_ids_of(conn, tables, subject)
        report.post_ids_found = len(posts)
        aliases = tuple(sorted({pseudonymise(n.lower(), key) for n in names}))
        subject = Subject(platform, account_id, names, frozenset(posts), aliases)
        report.tables = erase_rows(conn, tables, subject, report.subject)

    terms = subject.terms
    if services.amqp_url:
        try:
            report.queue = queue_purge.purge(
                services.amqp_url, services.queue_prefix, platform, account_id
            )
            report.remaining_tasks = queue_purge.remaining(
                services.amqp_url, services.queue_prefix, platform, account_id
            )
        except Exception as exc:  # the broker down: workers still drop the tasks (suppressed)
            report.problems.append(f"queue not purged: {type(exc).__name__}")
    if services.redis_url:
        try:
            report.cache = cache.purge(services.redis_url, services.redis_prefix, terms)
            report.remaining_cache_keys = cache.remaining(
                services.redis_url, services.redis_prefix, terms
            )
        except Exception as exc:
            report.problems.append(f"cache not purged: {type(exc).__name__}")
    location = services.export_root
    root = export_files.Root(location) if location else None
    if root is not None and export_files.has_files(root):
        exports: dict[str, Any] = {}
        try:
            if export_files.rewrite_snapshot(db_url, location) is not None:
                exports["snapshot"] = "rewritten"
        except Exception as exc:  # the files are scrubbed below whatever happened here
            exports["snapshot"] = f"not rewritten: {type(exc).__name__}"
        exports.update(export_files.scrub(root, terms, platform, subject.post_ids))
        report.exports = exports
        report.remaining_export_files = export_files.remaining(
            root, terms, platform, subject.post_ids
        )

    with psycopg.connect(db_url) as conn, conn.transaction(), conn.cursor() as cur:
        cur.execute("set transaction isolation level repeatable read, read only")
        report.remaining_rows = remaining(conn, subject)


def _audit(db_url: str, actor: str, report: ErasureReport, request_id: int | None) -> None:
    if not report.clean:
        outcome = "failed"
    elif report.found_anything:
        outcome = "ok"
    else:
        outcome = "nothing"
    details = report.details()
    if request_id is not None:
        details["request_id"] = request_id
    audit.record_now(
        db_url,
        actor=actor,
        action="erase",
        subject=report.subject,
        outcome=outcome,
        details=details,
    )
