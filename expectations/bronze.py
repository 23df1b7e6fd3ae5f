"""Bronze gate: every raw record says where and when it came from, and is stored whole.

Bronze is what silver and gold are rebuilt from, so here every record must keep the rules (a
record without an account or with a status of 0 is a broken writer, not an odd answer). One
aggregate query over bronze.raw_records counts, per platform and endpoint of the catalog, the
records breaking each rule; examples are fetched only for a rule that fails. Great Expectations
judges the counts (expectations/judge.py): every one must be 0.

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


def _aggregate_sql() -> str:
    counts = ",\n           ".join(
        f"count(*) filter (where {rule.broken_when}) as {rule.key}" for rule in RULES
    )
    return f"""
    select platform, endpoint, count(*) as records,
           {counts}
    from bronze.raw_records
    group by platform, endpoint
    """


AGGREGATE_SQL = _aggregate_sql()

# Apart from the rules above: a distinct count there would make the server sort every row by
# endpoint; here it only hashes the envelope hashes (spilling to disk if it must).
DUPLICATES_SQL = """
    select platform, endpoint, count(*) as duplicated
    from bronze.raw_records
    where record_hash in (
        select record_hash from bronze.raw_records group by record_hash having count(*) > 1
    )
    group by platform, endpoint
"""


def _shown(value) -> str:
    return value.isoformat() if isinstance(value, datetime) else repr(value)


def _examples(conn: psycopg.Connection, key: EndpointKey, rule: Rule, params: dict) -> list[str]:
    rows = conn.execute(
        f"select record_id, {rule.shown} from bronze.raw_records "
        f"where platform = %(platform)s and endpoint = %(endpoint)s and ({rule.broken_when}) "
        "order by record_id limit 3",
        {**params, "platform": key[0], "endpoint": key[1]},
    ).fetchall()
    return [f"record {record_id} {rule.shown}={_shown(value)}" for record_id, value in rows]


def _duplicate_examples(conn: psycopg.Connection, key: EndpointKey) -> list[str]:
    rows = conn.execute(
        "select record_hash, count(*) from bronze.raw_records "
        "where platform = %s and endpoint = %s group by record_hash having count(*) > 1 "
        "order by record_hash limit 3",
        key,
    ).fetchall()
    return [f"{record_hash[:12]}… x{n}" for record_hash, n in rows]


def evaluate(
    conn: psycopg.Connection, now: datetime | None = None
) -> dict[EndpointKey, GateResult]:
    """The gate of every catalog endpoint (an endpoint without records passes on 0 rows), judged
    by one GX suite run on the counts."""
    params = {"latest_allowed": (now or utcnow()) + BRONZE_FUTURE_TOLERANCE}
    cur = conn.execute(AGGREGATE_SQL, params)
    names = [d.name for d in cur.description]
    found = {(row[0], row[1]): dict(zip(names, row, strict=True)) for row in cur.fetchall()}
    duplicated = {(p, e): n for p, e, n in conn.execute(DUPLICATES_SQL)}
    gates: dict[EndpointKey, Unjudged] = {}
    for endpoint in catalog.ENDPOINTS:
        key = (endpoint.platform, endpoint.name)
        counts = found.get(key, {})
        total = counts.get("records", 0)
        checks: list[Check] = []
        for rule in RULES:
            if not rule.applies(endpoint):
                continue
            odd = counts.get(rule.key, 0)
            examples = _examples(conn, key, rule, params) if odd else []
            checks.append(none_allowed(rule.name, odd, total, examples))
        duplicates = duplicated.get(key, 0)
        examples = _duplicate_examples(conn, key) if duplicates else []
        checks.append(none_allowed(UNIQUE_HASH, duplicates, total, examples))
        gates[key] = Unjudged(f"bronze_{endpoint.view}", total, checks)
    return judge("bronze_gate", gates)


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
