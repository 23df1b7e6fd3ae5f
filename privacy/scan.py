"""Rows of one table that hold a person, and what erasing them means for each row.

A row is about the person, and is deleted, when a column naming an account holds their id (or
"username:<name>"), a post-id column holds one of their posts, any text column's whole value is
their id or username, or a JSON document is about them as a whole (see privacy/matching.py).
A row that only mentions them keeps its own data: the list elements about them are removed from
its JSON and their id or username is replaced inside its texts. Rows of another platform are
never touched (the same username there is someone else).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from analisa.core.catalog import PLATFORMS
from privacy.matching import REDACTED, Terms, parse_json_text
from privacy.tables import Column, Table

BATCH_ROWS = 500


@dataclass(frozen=True)
class Subject:
    platform: str
    account_id: str
    usernames: tuple[str, ...] = ()
    post_ids: frozenset[str] = frozenset()
    aliases: tuple[str, ...] = ()
    """Pseudonyms silver writes for the username where others mention it ("@<hmac>"): the
    same person, searched for like a username."""

    @property
    def terms(self) -> Terms:
        return Terms(self.account_id, (*self.usernames, *self.aliases))

    @property
    def account_values(self) -> list[str]:
        """Values an account column holds for them: the id, or the name a Business Discovery
        answer is filed under before its id is known."""
        return [self.account_id, *(f"username:{u}" for u in self.usernames)]


@dataclass
class Verdict:
    delete: bool = False
    updates: dict[str, Any] = field(default_factory=dict)
    why: str = ""

    @property
    def mentions(self) -> bool:
        return self.delete or bool(self.updates)


def _where(table: Table, subject: Subject, terms: Terms) -> tuple[sql.Composable, list]:
    parts: list[sql.Composable] = []
    params: list[Any] = []
    for column in table.columns:
        ident = sql.Identifier(column.name)
        if column.is_account:
            parts.append(sql.SQL("{}::text = any(%s)").format(ident))
            params.append(subject.account_values)
        if column.is_post_id and subject.post_ids:
            parts.append(sql.SQL("{}::text = any(%s)").format(ident))
            params.append(sorted(subject.post_ids))
        if column.kind in ("text", "json", "array"):
            for needle in terms.needles:
                parts.append(sql.SQL("strpos(lower({}::text), %s) > 0").format(ident))
                params.append(needle)
        short = terms.short_names
        if short and column.kind == "text":
            values = [v for n in short for v in (n, "@" + n, "username:" + n)]
            parts.append(sql.SQL("lower({}) = any(%s)").format(ident))
            params.append(values)
            # a JSON document kept as text holds them as a quoted value
            parts.append(sql.SQL("lower({}) ~ %s").format(ident))
            params.append(_quoted_any(short))
        elif short and column.kind in ("json", "array"):
            parts.append(sql.SQL("lower({}::text) ~ %s").format(ident))
            params.append(_quoted_any(short))
    if not parts:
        return sql.SQL("false"), []
    clause = sql.SQL("({})").format(sql.SQL(" or ").join(parts))
    if table.has_platform:
        clause = sql.SQL("(platform is null or platform = %s) and {}").format(clause)
        params.insert(0, subject.platform)
    return clause, params


def _quoted_any(names: list[str]) -> str:
    """A POSIX regex: any of the names as a whole JSON string ("ab", "@ab")."""
    return '"@?(' + "|".join(re.escape(n) for n in names) + ')"'


def _relevant(table: Table) -> list[Column]:
    return [
        c
        for c in table.columns
        if c.kind in ("text", "json", "array") or c.is_account or c.is_post_id
    ]


def candidates(
    conn: psycopg.Connection, table: Table, subject: Subject, *, lock: bool = False
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(ctid, {column: value}) of the rows that may hold the person (a superset: judge them)."""
    columns = _relevant(table)
    if not columns:
        return
    terms = subject.terms
    where, params = _where(table, subject, terms)
    query = sql.SQL("select ctid::text, {} from {} where {}{}").format(
        sql.SQL(", ").join(sql.Identifier(c.name) for c in columns),
        table.ident,
        where,
        sql.SQL(" for update") if lock and not table.materialized else sql.SQL(""),
    )
    with conn.cursor(name=None) as cur:
        cur.execute(query, params)
        while rows := cur.fetchmany(BATCH_ROWS):
            for row in rows:
                yield row[0], {c.name: v for c, v in zip(columns, row[1:], strict=True)}


def judge(table: Table, row: dict[str, Any], subject: Subject, terms: Terms) -> Verdict:
    """What erasing the person means for this row."""
    verdict = Verdict()
    owner = table.platform_in_name(PLATFORMS)
    if owner is not None and owner != subject.platform:
        # another platform's own table (no platform column, named after it): its accounts
        # are other people, whatever their names
        return verdict
    for column in table.columns:
        if column.name not in row:
            continue
        value = row[column.name]
        if value is None:
            continue
        if column.is_account and str(value) in subject.account_values:
            return Verdict(delete=True, why=f"{column.name} names the account")
        if column.is_post_id and str(value) in subject.post_ids:
            return Verdict(delete=True, why=f"{column.name} is one of the account's posts")
        if column.kind == "text":
            if terms.equals(value):
                return Verdict(delete=True, why=f"{column.name} is the account's id or username")
            doc = parse_json_text(value) if terms.in_text(value) else None
            if doc is not None:
                scrubbed, whole = terms.scrub_json(doc)
                if whole:
                    return Verdict(delete=True, why=f"{column.name} is a document about them")
                verdict.updates[column.name] = json.dumps(scrubbed, ensure_ascii=False)
            elif terms.keyed_in_text(value):
                return Verdict(delete=True, why=f"{column.name} is a record filed under them")
            elif terms.in_text(value):
                verdict.updates[column.name] = terms.redact_text(value)
        elif column.kind in ("json", "array"):
            if not terms.json_mentions(value):
                continue
            scrubbed, whole = terms.scrub_json(value)
            if whole:
                return Verdict(delete=True, why=f"{column.name} is a document about them")
            verdict.updates[column.name] = scrubbed
    return verdict


def redact_only(table: Table, row: dict[str, Any], terms: Terms) -> dict[str, Any]:
    """For tables of other tools: every mention replaced in place, no row deleted."""
    updates: dict[str, Any] = {}
    for column in table.columns:
        value = row.get(column.name)
        if value is None:
            continue
        if column.kind == "text" and (terms.equals(value) or terms.in_text(value)):
            updates[column.name] = REDACTED if terms.equals(value) else terms.redact_text(value)
        elif column.kind in ("json", "array") and terms.json_mentions(value):
            updates[column.name] = terms.redact_json(value)
    return updates
