"""The suppression list: accounts erased at their owner's request are not collected again.

Kept under keyed pseudonyms only (ops.suppressions, migration 010): the subject (platform and
account id), the bare id and the lowercased username, each an HMAC under ANALISA_PSEUDONYM_KEY.
Every bronze write checks it (connectors/bronze_writer.py) inside the writing transaction, after
taking the suppression lock in shared mode; an erasure adds its row under the same lock in
exclusive mode. So a write either committed before the suppression (and the erasure that follows
deletes it) or sees the suppression and stores nothing: no interleaving brings an erased account
back. Lifted only when the owner connects again (`analisa connect`), which is audited.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import psycopg

from analisa.core.crypto import pseudonymise, subject_pseudonym

# pg advisory lock key: writers take it shared per transaction, an erasure exclusive.
SUPPRESSION_LOCK = 7419020
# A rejected line is matched token by token; beyond this many tokens the rest is not read.
MAX_TOKENS = 20_000
_TOKEN = re.compile(r"[A-Za-z0-9._-]{1,128}")


__all__ = ["SUPPRESSION_LOCK", "id_token", "load", "subject_pseudonym", "username_token"]


def id_token(account_id: str, key: str) -> str:
    return pseudonymise(f"id:{account_id}", key)


def username_token(username: str, key: str) -> str:
    return pseudonymise(f"username:{username.strip().lstrip('@').lower()}", key)


@dataclass
class Suppressed:
    """The suppression list as read inside one transaction."""

    key: str
    subjects: set[str] = field(default_factory=set)
    ids: set[str] = field(default_factory=set)
    usernames: set[str] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.subjects)

    def account(self, platform: str, account_id: str) -> bool:
        if not self.subjects:
            return False
        if account_id.startswith("username:"):  # a Business Discovery answer filed by name
            return username_token(account_id.split(":", 1)[1], self.key) in self.usernames
        return subject_pseudonym(platform, account_id, self.key) in self.subjects

    def record(self, platform: str, account_id: str, body: object) -> bool:
        """A record filed under a suppressed account, or a Business Discovery answer about one
        filed under another account (the brand's)."""
        if self.account(platform, account_id):
            return True
        found = body.get("business_discovery") if isinstance(body, dict) else None
        if isinstance(found, dict):
            found_id, name = found.get("id"), found.get("username")
            if found_id is not None and self.account(platform, str(found_id)):
                return True
            if isinstance(name, str) and username_token(name, self.key) in self.usernames:
                return True
        return False

    def text(self, raw: str) -> bool:
        """Whether a text (a rejected envelope) names a suppressed id or username as a token."""
        if not self.subjects:
            return False
        for n, match in enumerate(_TOKEN.finditer(raw)):
            if n >= MAX_TOKENS:
                break
            token = match.group(0).strip(".")
            if not token:
                continue
            if id_token(token, self.key) in self.ids:
                return True
            if self.usernames and username_token(token, self.key) in self.usernames:
                return True
        return False


def load(conn: psycopg.Connection, key: str, *, lock: bool = True) -> Suppressed:
    """Read the list; with `lock`, first take the suppression lock shared until the end of the
    caller's transaction (the caller must be inside one), so no erasure slips in between."""
    if lock:
        conn.execute("select pg_advisory_xact_lock_shared(%s)", (SUPPRESSION_LOCK,))
    rows = conn.execute("select subject, id_token, username_token from ops.suppressions").fetchall()
    found = Suppressed(key)
    for subject, bare_id, name in rows:
        found.subjects.add(subject)
        found.ids.add(bare_id)
        if name:
            found.usernames.add(name)
    return found


def is_suppressed(conn: psycopg.Connection, key: str, platform: str, account_id: str) -> bool:
    """One account, checked inside the caller's transaction under the shared lock."""
    conn.execute("select pg_advisory_xact_lock_shared(%s)", (SUPPRESSION_LOCK,))
    row = conn.execute(
        "select 1 from ops.suppressions where subject = %s",
        (subject_pseudonym(platform, account_id, key),),
    ).fetchone()
    return row is not None


def filter_records(suppressed: Suppressed, records: Iterable) -> tuple[list, int]:
    """(records to keep, how many were dropped as suppressed)."""
    kept, dropped = [], 0
    for record in records:
        if suppressed and suppressed.record(record.platform, record.account_id, record.body):
            dropped += 1
        else:
            kept.append(record)
    return kept, dropped
