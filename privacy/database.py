"""The database part of an erasure: find the person, delete or scrub every row, verify."""

from __future__ import annotations

from collections.abc import Iterable

import psycopg
from psycopg import sql
from psycopg.types.json import Json, Jsonb

from privacy import scan
from privacy.scan import Subject
from privacy.tables import PSEUDONYMOUS, REQUESTS, Table, discover

# Where a username sits in the platforms' profile answers (bronze bodies of the account).
_USERNAME_PATHS = ("{username}", "{data,user,username}", "{business_discovery,username}")


def usernames_of(
    conn: psycopg.Connection, tables: list[Table], platform: str, account_id: str
) -> set[str]:
    """The usernames the platform holds for this account: every `username` column of a row
    keyed by the account, and the username fields of its own raw answers."""
    found: set[str] = set()
    for table in tables:
        names = [c.name for c in table.columns]
        account_cols = [c for c in table.columns if c.is_account]
        if "username" not in names or not account_cols:
            continue
        for column in account_cols:
            query = sql.SQL("select distinct username from {} where {}::text = %s{}").format(
                table.ident,
                sql.Identifier(column.name),
                sql.SQL(" and platform = %s") if table.has_platform else sql.SQL(""),
            )
            params = [account_id, platform] if table.has_platform else [account_id]
            found |= {r[0] for r in conn.execute(query, params) if r[0]}
    for path in _USERNAME_PATHS:
        rows = conn.execute(
            "select distinct body #>> %s from bronze.raw_records "
            "where platform = %s and account_id = %s and body #>> %s is not null",
            (path, platform, account_id, path),
        )
        found |= {r[0] for r in rows if r[0]}
    return {u.strip().lstrip("@") for u in found if u.strip().lstrip("@")}


def post_ids_of(conn: psycopg.Connection, tables: list[Table], subject: Subject) -> set[str]:
    """Ids of the account's posts: post-id columns of rows keyed by the account, the objects
    of its raw answers, and every `id` inside its own raw answers (media, children)."""
    ids: set[str] = set()
    for table in tables:
        post_cols = [c for c in table.columns if c.is_post_id]
        account_cols = [c for c in table.columns if c.is_account]
        if not post_cols or not account_cols:
            continue
        for account in account_cols:
            for post in post_cols:
                query = sql.SQL(
                    "select distinct {}::text from {} where {}::text = any(%s){}"
                ).format(
                    sql.Identifier(post.name),
                    table.ident,
                    sql.Identifier(account.name),
                    sql.SQL(" and platform = %s") if table.has_platform else sql.SQL(""),
                )
                params: list = [subject.account_values]
                if table.has_platform:
                    params.append(subject.platform)
                ids |= {r[0] for r in conn.execute(query, params) if r[0]}
    rows = conn.execute(
        "select distinct v from ("
        " select object_id as v from bronze.raw_records"
        "  where platform = %(p)s and account_id = any(%(a)s)"
        " union all"
        " select jsonb_path_query(body, 'strict $.**.id') #>> '{}' from bronze.raw_records"
        "  where platform = %(p)s and account_id = any(%(a)s) and body is not null"
        ") ids where v is not null",
        {"p": subject.platform, "a": subject.account_values},
    )
    ids |= {r[0] for r in rows}
    ids.discard(subject.account_id)
    return {i for i in ids if i}


def erase_rows(
    conn: psycopg.Connection, tables: Iterable[Table], subject: Subject, request_subject: str
) -> dict[str, dict[str, int]]:
    """Delete or scrub, in the caller's transaction; {table: {"deleted": n, "scrubbed": n}}."""
    terms = subject.terms
    counts: dict[str, dict[str, int]] = {}
    refresh: list[Table] = []
    for table in tables:
        key = (table.schema, table.name)
        if key in PSEUDONYMOUS:
            continue
        if key == REQUESTS:
            n = _scrub_requests(conn, subject, request_subject)
            if n:
                _add(counts, table.display, 0, n)
            continue
        if table.materialized:
            refresh.append(table)
            continue
        deletes: list[str] = []
        updates: list[tuple[str, dict]] = []
        for ctid, row in scan.candidates(conn, table, subject, lock=True):
            if table.redact_only:
                changed = scan.redact_only(table, row, terms)
                if changed:
                    updates.append((ctid, changed))
                continue
            verdict = scan.judge(table, row, subject, terms)
            if verdict.delete:
                deletes.append(ctid)
            elif verdict.updates:
                updates.append((ctid, verdict.updates))
        if deletes:
            conn.execute(
                sql.SQL("delete from {} where ctid = any(%s::tid[])").format(table.ident),
                (deletes,),
            )
        kinds = {c.name: c for c in table.columns}
        for ctid, changed in updates:
            assignments = sql.SQL(", ").join(
                sql.SQL("{} = %s").format(sql.Identifier(name)) for name in changed
            )
            values = [_adapt(kinds[name].type_name, value) for name, value in changed.items()]
            conn.execute(
                sql.SQL("update {} set {} where ctid = %s::tid").format(table.ident, assignments),
                (*values, ctid),
            )
        if deletes or updates:
            _add(counts, table.display, len(deletes), len(updates))
    for table in refresh:
        conn.execute(sql.SQL("refresh materialized view {}").format(table.ident))
    lower_gate_baselines(conn, counts)
    return counts


# The views over tables (int_post_snapshots and post_interests unite one table per platform),
# each with the tables it reads
_VIEW_TABLES = """
select distinct vn.nspname || '.' || v.relname, tn.nspname || '.' || t.relname
from pg_depend d
join pg_rewrite r on r.oid = d.objid
join pg_class v on v.oid = r.ev_class
join pg_namespace vn on vn.oid = v.relnamespace
join pg_class t on t.oid = d.refobjid
join pg_namespace tn on tn.oid = t.relnamespace
where d.classid = 'pg_rewrite'::regclass and d.refclassid = 'pg_class'::regclass
  and v.relkind = 'v' and t.relkind in ('r', 'p', 'm') and t.oid <> v.oid
"""


def lower_gate_baselines(conn: psycopg.Connection, counts: dict[str, dict[str, int]]) -> int:
    """The volume gates compare a build with the last accepted one (ops.gate_row_counts): a
    table that shrank because of an erasure is not a broken transform. Each baseline is lowered
    by the rows erased, recorded as a new accepted count (run_id "erasure"); returns how many.
    A gated view (a union of tables) lost the rows erased from the tables it reads."""
    erased = {name: n.get("deleted", 0) for name, n in counts.items()}
    for view, table in conn.execute(_VIEW_TABLES).fetchall():
        if erased.get(table):
            erased[view] = erased.get(view, 0) + erased[table]
    lowered = 0
    for qualified, deleted in erased.items():
        if not deleted:
            continue
        layer, _, name = qualified.partition(".")
        cur = conn.execute(
            "insert into ops.gate_row_counts (layer, table_name, row_count, run_id) "
            "select layer, table_name, greatest(row_count - %s, 0), 'erasure' from ("
            " select layer, table_name, row_count from ops.gate_row_counts"
            " where layer = %s and table_name = %s order by build_id desc limit 1) last",
            (deleted, layer, name),
        )
        lowered += cur.rowcount
    return lowered


def _add(counts: dict[str, dict[str, int]], name: str, deleted: int, scrubbed: int) -> None:
    entry = counts.setdefault(name, {"deleted": 0, "scrubbed": 0})
    entry["deleted"] += deleted
    entry["scrubbed"] += scrubbed


def _adapt(type_name: str, value):
    if type_name == "jsonb":
        return Jsonb(value)
    if type_name == "json":
        return Json(value)
    return value


def _scrub_requests(conn: psycopg.Connection, subject: Subject, request_subject: str) -> int:
    """Erasure requests keep their status and the pseudonym; the id and the free-text reason
    (which may name the person) go."""
    cur = conn.execute(
        "update ops.erasure_requests set account_id = null, subject = %s, reason = '' "
        "where platform = %s and account_id = %s",
        (request_subject, subject.platform, subject.account_id),
    )
    return cur.rowcount


def remaining(
    conn: psycopg.Connection, subject: Subject, tables: list[Table] | None = None
) -> dict[str, int]:
    """Rows of every table that still hold the person's id, username or posts: {table: n}."""
    tables = tables if tables is not None else discover(conn)
    terms = subject.terms
    left: dict[str, int] = {}
    for table in tables:
        if (table.schema, table.name) in PSEUDONYMOUS:
            continue
        n = 0
        for _, row in scan.candidates(conn, table, subject):
            if table.redact_only:
                n += bool(scan.redact_only(table, row, terms))
            else:
                n += scan.judge(table, row, subject, terms).mentions
        if n:
            left[table.display] = left.get(table.display, 0) + n
    return left


def rows_about(
    conn: psycopg.Connection, subject: Subject, tables: list[Table]
) -> dict[str, list[dict]]:
    """Every row that holds the person, whole (for the subject export): {table: rows}."""
    terms = subject.terms
    found: dict[str, list[dict]] = {}
    for table in tables:
        if (table.schema, table.name) in PSEUDONYMOUS:
            continue
        ctids = [
            ctid
            for ctid, row in scan.candidates(conn, table, subject)
            if (scan.redact_only(table, row, terms) if table.redact_only else None)
            or scan.judge(table, row, subject, terms).mentions
        ]
        if not ctids:
            continue
        cur = conn.execute(
            sql.SQL("select * from {} where ctid = any(%s::tid[]) order by ctid").format(
                table.ident
            ),
            (ctids,),
        )
        names = [d.name for d in cur.description]
        found.setdefault(table.display, []).extend(
            dict(zip(names, r, strict=True)) for r in cur.fetchall()
        )
    return found
