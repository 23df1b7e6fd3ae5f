"""Bronze gate: every raw record says where and when it came from, and is stored whole.

Bronze is what silver and gold are rebuilt from, so here every record must keep the rules (a
record without an account or with a status of 0 is a broken writer, not an odd answer). One
aggregate query over bronze.raw_records counts, per platform and endpoint of the catalog, the
records breaking each rule; examples are fetched only for a rule that fails. Great Expectations
judges the counts (expectations/judge.py): every one must be 0.

Only the records no accepted run has judged are read: bronze is append-only and a record judged
good stays good (its rules are about the record alone, and the future limit only moves later),
so each accepted endpoint records where its gate stopped (ops.bronze_gate_marks) and the next
run starts there, on the index of the loading transaction (migration 019). A failed endpoint
keeps its mark, so its bad records fail every run until they are removed. The one rule that
needs all of bronze, a unique envelope hash, looks the new hashes up in every record.

Malformed bodies are not a gate failure: they are kept, quarantined by silver, and counted by the
separate `malformed_responses` warning check (also in SQL, at most a few examples returned).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import psycopg

from analisa.core import catalog
from analisa.core.clock import utcnow
from expectations.judge import Unjudged, judge
from expectations.results import Check, GateResult, none_allowed
from expectations.thresholds import BRONZE_FUTURE_TOLERANCE

EndpointKey = tuple[str, str]


@dataclass(frozen=True)
class Rule:
    name: str
    key: str
    """Column alias of the rule's count in the aggregate query."""
    broken_when: str
    """SQL condition true for a record that breaks the rule."""
    shown: str
    """The column an example shows."""
    applies: Callable[[catalog.Endpoint], bool] = lambda endpoint: True


RULES: tuple[Rule, ...] = (
    Rule(
        "account_id present", "no_account_id", "nullif(btrim(account_id), '') is null", "account_id"
    ),
    # round_id groups the pages of one listing; other answers may carry none
    Rule(
        "round_id present",
        "no_round_id",
        "nullif(btrim(round_id), '') is null",
        "round_id",
        applies=lambda endpoint: endpoint.is_listing,
    ),
    Rule("fetched_at present", "no_fetched_at", "fetched_at is null", "fetched_at"),
    Rule(
        "object_id present",
        "no_object_id",
        "nullif(btrim(object_id), '') is null",
        "object_id",
        applies=lambda endpoint: endpoint.object_id_required,
    ),
    Rule(
        "http_status in 100-599",
        "bad_http_status",
        "http_status is null or http_status not between 100 and 599",
        "http_status",
    ),
    Rule("body kept", "no_body", "body is null and body_text is null", "request"),
    Rule(
        "fetched_at not in the future",
        "future_fetched_at",
        "fetched_at > %(latest_allowed)s",
        "fetched_at",
    ),
)
UNIQUE_HASH = "record_hash unique"


# An answer silver may read: a 2xx status and a JSON body (error answers feed no table).
ANSWER = "http_status between 200 and 299 and body is not null"


# A record loaded by a transaction the gate's snapshot saw finished: below the next mark.
SEEN = (
    "coalesce(ingested_xid, 0) < %(next_xid)s"
    " and coalesce(ingested_xid, 0) <> all(cast(%(pending)s as bigint[]))"
)


def _aggregate_sql(increment: str) -> str:
    counts = ",\n           ".join(
        f"count(*) filter (where {rule.broken_when}) as {rule.key}" for rule in RULES
    )
    return f"""
    select platform, endpoint, count(*) as records,
           count(*) filter (where {SEEN}) as below_next_mark,
           max(fetched_at) filter (where {SEEN}) as newest_below_next_mark,
           max(fetched_at) filter (where {SEEN} and {ANSWER}) as newest_answer_below_next_mark,
           {counts}
    from bronze.raw_records
    where {increment}
    group by platform, endpoint
    """


@dataclass(frozen=True)
class Mark:
    """Where the gate last stopped on one endpoint (ops.bronze_gate_marks, migration 020)."""

    next_xid: int
    """Records loaded by this transaction id or a later one are not judged yet ..."""
    pending: tuple[int, ...]
    """... nor those of these transactions, still running when the gate looked."""
    records: int
    """Records below the mark, all judged good."""
    newest_fetched_at: datetime | None = None
    """The newest fetched_at below the mark."""
    newest_answer_at: datetime | None = None
    """The same, of an ANSWER."""


# A retention purge or an erasure (every one is audited, from the CLI or a request) deletes or
# rewrites records below the marks: after one, the gate judges and counts all of bronze again,
# once.
MARKS_SQL = """
    select m.platform, m.endpoint, m.next_xid, m.pending_xids, m.records,
           m.newest_fetched_at, m.newest_answer_at
    from ops.bronze_gate_marks m
    where not exists (
        select 1 from ops.retention_purges p
        where p.table_name = 'bronze.raw_records' and not p.dry_run
          and p.started_at >= m.recorded_at
    )
      and not exists (
        select 1 from ops.audit_log a where a.action = 'erase' and a.at >= m.recorded_at
    )
"""

# What this gate's snapshot cannot see, taken before the aggregates: the transactions from its
# xmax on and those still running below it. Every record the aggregates cannot see was loaded by
# one of them, so the next run judges it. The gate's own transaction counts as running too: a
# record it writes after the gate looked is judged by the next run. (The snapshot's xmin, as the
# silver watermark keeps, would be as safe, but a long transaction anywhere on the server holds
# it back, and the gate would judge again everything loaded since.)
NEXT_XID_SQL = """
    select pg_snapshot_xmax(s)::text::bigint,
           array(
               select xid from (
                   select x::text::bigint from pg_snapshot_xip(s) as x
                   union
                   select pg_current_xact_id_if_assigned()::text::bigint
               ) as running (xid)
               where xid is not null
               order by xid
           )
    from pg_current_snapshot() as s
"""

RECORD_MARK_SQL = """
    insert into ops.bronze_gate_marks
        (platform, endpoint, next_xid, pending_xids, records, newest_fetched_at,
         newest_answer_at, recorded_at)
    values (%s, %s, %s, %s, %s, %s, %s, now())
    on conflict (platform, endpoint) do update
        set next_xid = excluded.next_xid, pending_xids = excluded.pending_xids,
            records = excluded.records,
            newest_fetched_at = excluded.newest_fetched_at,
            newest_answer_at = excluded.newest_answer_at, recorded_at = excluded.recorded_at
"""


def marks(conn: psycopg.Connection) -> dict[EndpointKey, Mark]:
    """Where the last accepted gate stopped, per endpoint (none after a purge or an erasure)."""
    return {
        (p, e): Mark(x, tuple(pending), *rest)
        for p, e, x, pending, *rest in conn.execute(MARKS_SQL)
    }


def _increment(found: dict[EndpointKey, Mark]) -> str:
    """SQL condition true for the records not judged yet: everything without a mark; with marks,
    one condition per catalog endpoint on the index (platform, endpoint, ingested_xid). Records
    loaded before migration 019 have no ingested_xid: the first run, without marks, judged them.
    The marks are inlined as numbers (they are bigints read from the table), so the planner
    estimates the new records from the index."""
    if not found:
        return "true"
    return " or ".join(_endpoint_increment((e.platform, e.name), found) for e in catalog.ENDPOINTS)


def _endpoint_increment(key: EndpointKey, found: dict[EndpointKey, Mark]) -> str:
    platform, endpoint = (sql_literal(v) for v in key)
    mark = found.get(key)
    since = ""
    if mark:
        since = f" and (ingested_xid >= {int(mark.next_xid)}"
        if mark.pending:
            since += f" or ingested_xid in ({', '.join(str(int(x)) for x in mark.pending)})"
        since += ")"
    return f"(platform = {platform} and endpoint = {endpoint}{since})"


def sql_literal(value: str) -> str:
    """A catalog name as a SQL string literal (the catalog's names are plain identifiers)."""
    return "'" + value.replace("'", "''") + "'"


# Uniqueness is the one rule about more than the record itself: a new record may repeat the
# envelope hash of any record, judged or not. The new records' hashes are looked up in all of
# bronze on the primary key (record_hash, fetched_at); without marks, the hashes of all of bronze
# are grouped on that index. Only the duplicated hashes come back, then their records are
# counted per endpoint (a record judged before counts too: it is one of the duplicates).
DUPLICATED_HASHES_SQL = """
    select record_hash from bronze.raw_records
    {where}
    group by record_hash having count(*) > 1
"""

DUPLICATES_SQL = """
    select platform, endpoint, record_hash, count(*)
    from bronze.raw_records
    where record_hash = any(%(hashes)s)
    group by platform, endpoint, record_hash
"""


def _duplicated_hashes(conn: psycopg.Connection, increment: str) -> list[str]:
    where = (
        ""
        if increment == "true"
        else f"where record_hash in (select record_hash from bronze.raw_records where {increment})"
    )
    return [h for (h,) in conn.execute(DUPLICATED_HASHES_SQL.format(where=where))]


def _shown(value) -> str:
    return value.isoformat() if isinstance(value, datetime) else repr(value)


def _examples(conn: psycopg.Connection, increment: str, rule: Rule, params: dict) -> list[str]:
    rows = conn.execute(
        f"select record_id, {rule.shown} from bronze.raw_records "
        f"where {increment} and ({rule.broken_when}) "
        "order by record_id limit 3",
        params,
    ).fetchall()
    return [f"record {record_id} {rule.shown}={_shown(value)}" for record_id, value in rows]


def _duplicates(
    conn: psycopg.Connection, hashes: list[str]
) -> tuple[dict[EndpointKey, int], dict[EndpointKey, list[str]]]:
    """Per endpoint: its records sharing a hash with another record, and a few of the hashes
    (with how many records share each, in all of bronze)."""
    if not hashes:
        return {}, {}
    rows = conn.execute(DUPLICATES_SQL, {"hashes": hashes}).fetchall()
    shared: dict[str, int] = {}
    for _, _, record_hash, n in rows:
        shared[record_hash] = shared.get(record_hash, 0) + n
    counts: dict[EndpointKey, int] = {}
    seen: dict[EndpointKey, set[str]] = {}
    for platform, endpoint, record_hash, n in rows:
        counts[(platform, endpoint)] = counts.get((platform, endpoint), 0) + n
        seen.setdefault((platform, endpoint), set()).add(record_hash)
    examples = {
        key: [f"{h[:12]}… x{shared[h]}" for h in sorted(found)[:3]] for key, found in seen.items()
    }
    return counts, examples


def _evaluate(
    conn: psycopg.Connection, now: datetime | None, found: dict[EndpointKey, Mark]
) -> tuple[dict[EndpointKey, GateResult], dict[EndpointKey, Mark]]:
    """The verdicts on the records not judged yet, and where each endpoint's next run would
    start if it is accepted."""
    next_xid, pending = conn.execute(NEXT_XID_SQL).fetchone()
    params = {
        "latest_allowed": (now or utcnow()) + BRONZE_FUTURE_TOLERANCE,
        "next_xid": next_xid,
        "pending": pending,
    }
    increment = _increment(found)
    cur = conn.execute(_aggregate_sql(increment), params)
    names = [d.name for d in cur.description]
    counted = {(row[0], row[1]): dict(zip(names, row, strict=True)) for row in cur.fetchall()}
    duplicated, duplicate_examples = _duplicates(conn, _duplicated_hashes(conn, increment))
    gates: dict[EndpointKey, Unjudged] = {}
    next_marks: dict[EndpointKey, Mark] = {}
    for endpoint in catalog.ENDPOINTS:
        key = (endpoint.platform, endpoint.name)
        counts = counted.get(key, {})
        judged_before = found[key].records if key in found else 0
        total = judged_before + counts.get("records", 0)
        increment = _endpoint_increment(key, found)
        checks: list[Check] = []
        for rule in RULES:
            if not rule.applies(endpoint):
                continue
            odd = counts.get(rule.key, 0)
            examples = _examples(conn, increment, rule, params) if odd else []
            checks.append(none_allowed(rule.name, odd, total, examples))
        duplicates = duplicated.get(key, 0)
        checks.append(none_allowed(UNIQUE_HASH, duplicates, total, duplicate_examples.get(key, [])))
        gates[key] = Unjudged(f"bronze_{endpoint.view}", total, checks)
        before = found.get(key, Mark(next_xid, (), 0))
        next_marks[key] = Mark(
            next_xid,
            tuple(pending),
            judged_before + counts.get("below_next_mark", 0),
            _newest(before.newest_fetched_at, counts.get("newest_below_next_mark")),
            _newest(before.newest_answer_at, counts.get("newest_answer_below_next_mark")),
        )
    return judge("bronze_gate", gates), next_marks


def _newest(*values: datetime | None) -> datetime | None:
    return max((v for v in values if v is not None), default=None)


NEWEST_SQL = f"""
    select platform, endpoint, max(fetched_at), max(fetched_at) filter (where {ANSWER})
    from bronze.raw_records
    where {{increment}}
    group by platform, endpoint
"""


@dataclass(frozen=True)
class Newest:
    """The newest fetched_at of an endpoint's records: of any answer, and of an ANSWER."""

    fetched_at: datetime | None
    answer_at: datetime | None


def newest(conn: psycopg.Connection) -> dict[EndpointKey, Newest]:
    """Per catalog endpoint with records: its newest fetched_at, from the gate's marks and the
    records above them (all of bronze without marks)."""
    found = marks(conn)
    latest = {
        key: Newest(mark.newest_fetched_at, mark.newest_answer_at) for key, mark in found.items()
    }
    above = conn.execute(NEWEST_SQL.format(increment=_increment(found))).fetchall()
    for platform, endpoint, at, answer_at in above:
        before = latest.get((platform, endpoint), Newest(None, None))
        latest[(platform, endpoint)] = Newest(
            _newest(before.fetched_at, at), _newest(before.answer_at, answer_at)
        )
    keys = {(e.platform, e.name) for e in catalog.ENDPOINTS}
    return {k: v for k, v in latest.items() if k in keys and v.fetched_at is not None}


def evaluate(
    conn: psycopg.Connection, now: datetime | None = None
) -> dict[EndpointKey, GateResult]:
    """The gate of every catalog endpoint (an endpoint without records passes on 0 rows), judged
    by one GX suite run on the counts: the records not judged by an accepted run (`run`) are
    judged, the others are counted from the marks. Records nothing."""
    return _evaluate(conn, now, marks(conn))[0]


def run(conn: psycopg.Connection, now: datetime | None = None) -> dict[EndpointKey, GateResult]:
    """Evaluate, and move the mark of every endpoint that passed past the records just judged
    (committed with the caller's transaction, so a verdict and its mark go together). A failed
    endpoint keeps its mark: its bad records are judged again until they are removed."""
    results, next_marks = _evaluate(conn, now, marks(conn))
    accepted = [
        (
            *key,
            mark.next_xid,
            list(mark.pending),
            mark.records,
            mark.newest_fetched_at,
            mark.newest_answer_at,
        )
        for key, mark in next_marks.items()
        if results[key].success
    ]
    with conn.cursor() as cur:
        cur.executemany(RECORD_MARK_SQL, accepted)
    return results


COUNT_SQL = """
    select platform, endpoint, count(*)
    from bronze.raw_records
    where {increment}
    group by platform, endpoint
"""

# on the partial index of the malformed records (migration 023): never all of bronze
MALFORMED_COUNT_SQL = """
    select platform, endpoint, count(*)
    from bronze.raw_records
    where parse_error is not null
    group by platform, endpoint
"""


def counts(conn: psycopg.Connection) -> dict[EndpointKey, tuple[int, int]]:
    """(records, malformed records) per catalog endpoint with records. The records below the
    gate's marks are the ones it counted when it accepted them (every record below a mark was
    judged and kept); those above are counted, so the cost follows the new records, not bronze
    (all of bronze is counted without marks, or after a purge or an erasure)."""
    found = marks(conn)
    records = {key: mark.records for key, mark in found.items()}
    for platform, endpoint, n in conn.execute(COUNT_SQL.format(increment=_increment(found))):
        records[(platform, endpoint)] = records.get((platform, endpoint), 0) + n
    malformed = {(p, e): n for p, e, n in conn.execute(MALFORMED_COUNT_SQL)}
    keys = [(e.platform, e.name) for e in catalog.ENDPOINTS]
    return {key: (records[key], malformed.get(key, 0)) for key in keys if records.get(key)}


@dataclass(frozen=True)
class Malformed:
    count: int
    examples: list[str]


MALFORMED_SQL = """
    select platform, endpoint, malformed, record_id, account_id, fetched_at, parse_error
    from (
        select platform, endpoint, record_id, account_id, fetched_at, parse_error,
               count(*) over (partition by platform, endpoint) as malformed,
               row_number() over (partition by platform, endpoint order by record_id) as n
        from bronze.raw_records
        where parse_error is not null
    ) numbered
    where n <= %(examples)s
    order by platform, endpoint, record_id
"""


def malformed(conn: psycopg.Connection, examples: int = 10) -> dict[EndpointKey, Malformed]:
    """Per catalog endpoint: how many bodies were not valid JSON, and the first few of them."""
    found: dict[EndpointKey, Malformed] = {}
    for platform, endpoint, count, record_id, account_id, fetched_at, error in conn.execute(
        MALFORMED_SQL, {"examples": examples}
    ):
        entry = found.setdefault((platform, endpoint), Malformed(count, []))
        entry.examples.append(
            f"record {record_id} account {account_id} at {fetched_at.isoformat()}: {error}"
        )
    return {
        (e.platform, e.name): found.get((e.platform, e.name), Malformed(0, []))
        for e in catalog.ENDPOINTS
    }
