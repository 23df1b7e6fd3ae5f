"""Adding to and lifting from the suppression list (read by connectors/suppression.py)."""

from __future__ import annotations

from collections.abc import Iterable

import psycopg

from connectors.suppression import (
    SUPPRESSION_LOCK,
    id_token,
    subject_pseudonym,
    username_token,
)
from privacy import audit


def suppress(
    conn: psycopg.Connection,
    key: str,
    platform: str,
    account_id: str,
    usernames: Iterable[str] = (),
    reason: str = "erasure",
) -> bool:
    """Put the account on the list, in the caller's transaction; True when it was not on it.

    Takes the suppression lock exclusively: it waits for bronze writes in flight (each holds
    it shared until its commit), and every write after the commit sees the account listed.
    Several usernames (a renamed account) are kept as several rows' worth of tokens: the
    first on the subject's row, the others as extra rows of the same subject pseudonym prefix.
    """
    conn.execute("select pg_advisory_xact_lock(%s)", (SUPPRESSION_LOCK,))
    subject = subject_pseudonym(platform, account_id, key)
    names = sorted({u.strip().lstrip("@").lower() for u in usernames if u and u.strip()})
    row = conn.execute(
        "insert into ops.suppressions (subject, platform, id_token, username_token, reason) "
        "values (%s, %s, %s, %s, %s) on conflict (subject) do update set "
        "username_token = coalesce(ops.suppressions.username_token, excluded.username_token) "
        "returning (xmax = 0) as inserted",
        (
            subject,
            platform,
            id_token(account_id, key),
            username_token(names[0], key) if names else None,
            reason,
        ),
    ).fetchone()
    for extra in names[1:]:
        # further names of the same person: own rows keyed by a derived pseudonym
        conn.execute(
            "insert into ops.suppressions (subject, platform, id_token, username_token, reason) "
            "values (%s, %s, %s, %s, %s) on conflict (subject) do nothing",
            (
                subject_pseudonym(platform, f"{account_id}\x00{extra}", key),
                platform,
                id_token(account_id, key),
                username_token(extra, key),
                reason,
            ),
        )
    return bool(row[0])


def is_listed(conn: psycopg.Connection, key: str, platform: str, account_id: str) -> bool:
    row = conn.execute(
        "select 1 from ops.suppressions where subject = %s",
        (subject_pseudonym(platform, account_id, key),),
    ).fetchone()
    return row is not None


def lift(conn: psycopg.Connection, key: str, platform: str, account_id: str, *, actor: str) -> bool:
    """The owner connected again themselves: collection may resume. Audited; False (and
    nothing recorded) when the account was not suppressed."""
    subject = subject_pseudonym(platform, account_id, key)
    conn.execute("select pg_advisory_xact_lock(%s)", (SUPPRESSION_LOCK,))
    bare = id_token(account_id, key)
    cur = conn.execute(
        "delete from ops.suppressions where platform = %s and id_token = %s",
        (platform, bare),
    )
    if cur.rowcount == 0:
        return False
    audit.record(
        conn,
        actor=actor,
        action="suppression_lifted",
        subject=subject,
        outcome="ok",
        details={"platform": platform, "why": "the owner connected the account again"},
    )
    return True
