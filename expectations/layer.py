"""The silver and gold gates: what dbt tests cannot say about a table, computed in SQL.

dbt tests hold each row (keys, not-null, accepted values) and fail on any. A gate judges the
table as a whole, on one aggregate row per check, each reduced to a few observations that one
Great Expectations suite run per layer judges (expectations/judge.py):
- volume: not fewer than VOLUME_MIN_RATIO of the rows of the last accepted build;
- bounds: values that cannot be true (negative counts, absurd rates, shares that do not sum to
  one), failing only when they are a systemic share of the table;
- freshness: the newest capture keeps up with the newest usable bronze answer feeding it;
- quarantine share: the share of each endpoint's latest answers silver could not use.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg

from analisa.core import catalog
from expectations import bronze, history
from expectations.judge import Unjudged, judge
from expectations.results import Check, GateResult, Limit, Observation, systemic_share
from expectations.thresholds import (
    FRESHNESS_MAX_LAG,
    QUARANTINE_MAX_SHARE,
    QUARANTINE_WINDOW,
    VOLUME_MIN_RATIO,
)


@dataclass(frozen=True)
class Bound:
    """A value that cannot be true, counted over a table's rows (or its groups)."""

    name: str
    odd_when: str
    """SQL condition true for a unit (row or group) whose value cannot be true."""
    shown: str
    """Columns an example shows."""


def at_least_zero(column: str, key: str) -> Bound:
    return Bound(f"{column} >= 0", f"{column} < 0", f"{key}, {column}")


def between(column: str, low: float, high: float, key: str) -> Bound:
    return Bound(
        f"{column} in [{low:g}, {high:g}]",
        f"{column} < {low} or {column} > {high}",
        f"{key}, {column}",
    )


@dataclass(frozen=True)
class TableGate:
    """What the gate judges about one silver or gold table."""

    layer: str
    table: str
    bounds: tuple[Bound, ...] = ()
    units: str | None = None
    """SQL of the units the bounds judge when they are not the table's rows (e.g. groups)."""
    columns: str | None = None
    """SQL of columns computed on each row for the bounds (e.g. a window total of its group)."""
    unit_name: str = "rows"
    fed_by: tuple[catalog.EndpointKind, ...] = ()
    """Kinds of the bronze endpoints the table's captures come from (freshness reference)."""
    volume: bool = True
    quarantine_share: bool = False

    @property
    def qualified(self) -> str:
        return f"{self.layer}.{self.table}"

    @property
    def name(self) -> str:
        return f"{self.layer}_{self.table}"


def _count(conn: psycopg.Connection, table: str) -> int:
    return conn.execute(f"select count(*) from {table}").fetchone()[0]


# --- volume ---------------------------------------------------------------------------------


VOLUME = Limit(f"rows / previous >= {VOLUME_MIN_RATIO:g}", min_value=VOLUME_MIN_RATIO)


def _volume(rows: int, previous: int | None) -> Check:
    if previous is None:
        return Check("volume", f"{rows} rows, first accepted build", {"rows": rows})
    return Check(
        "volume",
        f"{rows} rows against {previous} in the last accepted build "
        f"(at least {VOLUME_MIN_RATIO:.0%} required)",
        {"rows": rows, "previous": previous},
        # an accepted build of no rows: nothing can collapse
        (Observation("rows / previous", rows / previous, VOLUME),) if previous else (),
    )


# --- bounds ---------------------------------------------------------------------------------


def _source(gate: TableGate) -> str:
    if gate.units:
        return f"({gate.units}) as units"
    if gate.columns:
        return f"(select *, {gate.columns} from {gate.qualified}) as rows"
    return gate.qualified


def _table_pass(
    conn: psycopg.Connection, gate: TableGate
) -> tuple[int, list[int], list[tuple[str, datetime | None]] | None]:
    """One pass over the table (or its units): the units, each bound's odd units and, for a
    table judged on its rows and fed by bronze, the newest capture per platform."""
    counts = "".join(f", count(*) filter (where {b.odd_when})" for b in gate.bounds)
    if gate.fed_by and not gate.units:
        rows = conn.execute(
            f"select platform, max(captured_at), count(*){counts} "
            f"from {_source(gate)} group by platform"
        ).fetchall()
        total = sum(row[2] for row in rows)
        odd = [sum(row[3 + i] for row in rows) for i in range(len(gate.bounds))]
        return total, odd, [(row[0], row[1]) for row in rows]
    total, *odd = conn.execute(f"select count(*){counts} from {_source(gate)}").fetchone()
    return total, odd, None


def _bounds(conn: psycopg.Connection, gate: TableGate, total: int, odd: list[int]) -> list[Check]:
    checks = []
    for bound, n in zip(gate.bounds, odd, strict=True):
        examples = []
        if n:
            cur = conn.execute(
                f"select {bound.shown} from {_source(gate)} where {bound.odd_when} limit 3"
            )
            names = [d.name for d in cur.description]
            examples = [
                " ".join(f"{k}={v}" for k, v in zip(names, row, strict=True))
                for row in cur.fetchall()
            ]
        checks.append(systemic_share(bound.name, n, total, unit=gate.unit_name, examples=examples))
    return checks


# --- freshness ------------------------------------------------------------------------------

# The newest answer silver can use, per platform and endpoint: a 2xx answer with a JSON body
# that silver did not quarantine. Error answers (throttled rounds) feed no table. Each endpoint's
# newest answer is known from the bronze gate's marks (expectations/bronze.py); the records read
# are first those at that time (a few, found on the index (platform, endpoint, account_id,
# fetched_at)), then, when silver quarantined all of them, the window before it, and only when
# it quarantined every answer of the window, the endpoint's whole history.
_NEWEST_USABLE_SQL = """
    select b.platform, b.endpoint, max(b.fetched_at)
    from bronze.raw_records b
    where ({endpoints}) and b.http_status between 200 and 299 and b.body is not null
      {quarantined}
    group by b.platform, b.endpoint
"""


def _has_quarantine(conn: psycopg.Connection) -> bool:
    return conn.execute("select to_regclass('silver.quarantine_records')").fetchone()[0] is not None


def _endpoint_records(
    keys: Sequence[bronze.EndpointKey],
    since: dict[bronze.EndpointKey, datetime],
    params: dict,
    after: str = ">=",
) -> str:
    """SQL condition true for the records of these endpoints, each from `since` on when given
    (`after` compares; timestamps as parameters, so the planner prunes the monthly partitions
    before them)."""
    parts = []
    for i, key in enumerate(keys):
        platform, endpoint = (bronze.sql_literal(v) for v in key)
        part = f"b.platform = {platform} and b.endpoint = {endpoint}"
        if key in since:
            params[f"since_{i}"] = since[key]
            part += f" and b.fetched_at {after} %(since_{i})s"
        parts.append(f"({part})")
    return " or ".join(parts) or "false"


def newest_usable(conn: psycopg.Connection) -> dict[tuple[str, catalog.EndpointKind], datetime]:
    """Newest usable bronze fetched_at per platform and endpoint kind."""
    quarantined = (
        "and not exists (select 1 from silver.quarantine_records q where q.record_id = b.record_id)"
        if _has_quarantine(conn)
        else ""
    )
    answered = {k: n.answer_at for k, n in bronze.newest(conn).items() if n.answer_at is not None}
    found: dict[bronze.EndpointKey, datetime] = {}
    window = {key: at - QUARANTINE_WINDOW for key, at in answered.items()}
    for since in (answered, window, {}):
        keys = [key for key in answered if key not in found]
        if not keys:
            break
        params: dict = {}
        endpoints = _endpoint_records(keys, since, params)
        sql = _NEWEST_USABLE_SQL.format(endpoints=endpoints, quarantined=quarantined)
        found |= {(p, e): at for p, e, at in conn.execute(sql, params)}
    newest: dict[tuple[str, catalog.EndpointKind], datetime] = {}
    for (platform, name), at in found.items():
        key = (platform, catalog.endpoint(platform, name).kind)
        newest[key] = max(at, newest.get(key, at))
    return newest


def _hours(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 3600:.1f} h"


FRESHNESS = Limit(
    f"lag_seconds <= {FRESHNESS_MAX_LAG.total_seconds():g}",
    max_value=FRESHNESS_MAX_LAG.total_seconds(),
)


def _late(observations: Sequence[Observation]) -> str:
    return "; ".join(o.note for o in observations) + f" (limit {_hours(FRESHNESS_MAX_LAG)})"


def _newest_captures(
    conn: psycopg.Connection, gate: TableGate
) -> list[tuple[str, datetime | None]]:
    return conn.execute(
        f"select platform, max(captured_at) from {gate.qualified} group by platform"
    ).fetchall()


def _freshness(
    gate: TableGate,
    captured: Sequence[tuple[str, datetime | None]],
    reference: dict[tuple[str, catalog.EndpointKind], datetime],
) -> Check:
    # Judged per platform present in the table: a table with no rows of a platform (no videos
    # yet, no demographics below 100 followers) has nothing to be stale.
    lags, observations = {}, []
    for platform, newest in captured:
        refs = [reference[(platform, k)] for k in gate.fed_by if (platform, k) in reference]
        if newest is None or not refs:
            continue
        lag = max(timedelta(0), max(refs) - newest)
        lags[platform] = round(lag.total_seconds())
        observations.append(
            Observation(
                f"lag_seconds {platform}",
                lag.total_seconds(),
                FRESHNESS,
                note=f"{platform} newest capture {newest.isoformat()} is {_hours(lag)} behind "
                f"bronze {max(refs).isoformat()}",
            )
        )
    if lags:
        detail = f"lag {_hours(timedelta(seconds=max(lags.values())))}"
    else:
        detail = "no captures to judge"
    return Check("freshness", detail, {"lag_seconds": lags}, tuple(observations), _late)


# --- quarantine share -----------------------------------------------------------------------

# Each endpoint's answers after its newest fetched_at less the window (from the bronze gate's
# marks): the window alone is read, not all of bronze.
_QUARANTINE_SQL = """
    select b.platform, b.endpoint, count(*) as answers, count(q.record_id) as quarantined
    from bronze.raw_records b
    left join silver.quarantine_records q on q.record_id = b.record_id
    where {endpoints}
    group by b.platform, b.endpoint
    order by b.platform, b.endpoint
"""


def _quarantine(conn: psycopg.Connection) -> list[Check]:
    checks = []
    newest = bronze.newest(conn)
    params: dict = {}
    since = {key: n.fetched_at - QUARANTINE_WINDOW for key, n in newest.items()}
    endpoints = _endpoint_records(sorted(newest), since, params, after=">")
    for platform, endpoint, answers, quarantined in conn.execute(
        _QUARANTINE_SQL.format(endpoints=endpoints), params
    ):
        checks.append(
            systemic_share(
                f"quarantined {platform}_{endpoint}",
                quarantined,
                answers,
                max_share=QUARANTINE_MAX_SHARE,
                unit=f"answers of the latest {_hours(QUARANTINE_WINDOW)}",
            )
        )
    return checks


# --- the gate -------------------------------------------------------------------------------


# The passes over a layer's tables (and the quarantine share) run side by side, each on a
# connection of its own: one query uses one core, and the largest table's pass set the gate's
# time (int_post_snapshots, 1.2 s, then the quarantine share, 0.5 s, one after the other).
# Every table is built and committed before its gate runs: each connection reads the same data.
# A connection already in a transaction may hold what no other can see, or locks they would
# wait for: its gate runs on it alone.
SIDE_CONNECTIONS = 3


class _Here:
    """Runs work on the caller's connection, at once (the executor's interface)."""

    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def submit(self, work, *args) -> Future:
        done: Future = Future()
        done.set_result(work(self.conn, *args))
        return done


class _Beside:
    """Runs work on new connections to the caller's database, read only, side by side."""

    def __init__(self, conn: psycopg.Connection, pool: ThreadPoolExecutor):
        self.conn, self.pool = conn, pool

    def _run(self, work, *args):
        with psycopg.connect(
            self.conn.info.dsn, password=self.conn.info.password or None, autocommit=True
        ) as side:
            side.execute("set default_transaction_read_only = on")
            return work(side, *args)

    def submit(self, work, *args) -> Future:
        return self.pool.submit(self._run, work, *args)


@contextmanager
def _workers(conn: psycopg.Connection, gates: Sequence[TableGate]):
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        yield _Here(conn)
        return
    with ThreadPoolExecutor(min(SIDE_CONNECTIONS, len(gates) + 1)) as pool:
        yield _Beside(conn, pool)


def evaluate(conn: psycopg.Connection, gates: Sequence[TableGate]) -> dict[str, GateResult]:
    """Judge each table of one layer; the numbers come from aggregate queries, never rows, and
    one GX suite run judges them all."""
    if not gates:
        return {}
    (layer,) = {g.layer for g in gates}  # one layer at a time: results are keyed by table
    with _workers(conn, gates) as workers:
        # one pass over each table gives its rows, every bound's count and its newest captures
        passes = {g.table: workers.submit(_table_pass, g) for g in gates}
        quarantine = workers.submit(_quarantine) if any(g.quarantine_share for g in gates) else None
        reference = newest_usable(conn) if any(g.fed_by for g in gates) else {}
        previous = history.previous_counts(conn, layer, [g.table for g in gates if g.volume])
        unjudged: dict[str, Unjudged] = {}
        for gate in gates:
            units, odd, captured = passes[gate.table].result()
            checks = _bounds(conn, gate, units, odd)
            rows = _count(conn, gate.qualified) if gate.units else units
            if gate.volume:
                checks.insert(0, _volume(rows, previous.get(gate.table)))
            if gate.fed_by:
                if captured is None:
                    captured = _newest_captures(conn, gate)
                checks.append(_freshness(gate, captured, reference))
            if gate.quarantine_share and quarantine is not None:
                checks += quarantine.result()
            unjudged[gate.table] = Unjudged(gate.name, rows, checks)
    return judge(f"{layer}_gate", unjudged)


def run(
    conn: psycopg.Connection, gates: Sequence[TableGate], run_id: str | None = None
) -> dict[str, GateResult]:
    """Evaluate one layer, and when every table passed, record the row counts as the baseline
    of the next build (committed with the caller's transaction)."""
    results = evaluate(conn, gates)
    counts = {g.table: results[g.table].rows for g in gates if g.volume}
    if counts and all(r.success for r in results.values()):
        history.record(conn, gates[0].layer, counts, run_id)
    return results
