"""The gates, one per layer, as blocking asset checks: a failure stops the layers after it.

Every gate computes in the database (aggregate queries from expectations/) and judges the few
numbers they return, so its memory stays flat however large bronze grows.
"""

import dagster as dg
import psycopg

from expectations import bronze as bronze_gate_rules
from expectations import gold as gold_gate_rules
from expectations import silver as silver_gate_rules
from expectations.results import GateResult
from orchestration.defs.collection.assets import BRONZE_KEYS
from orchestration.lib.resources import AnalisaResource

BRONZE_GATE = "bronze_gate"
SILVER_GATE = "silver_gate"
GOLD_GATE = "gold_gate"
MALFORMED_CHECK = "malformed_responses"

SILVER_GATED = {m: dg.AssetKey(["silver", m]) for m in silver_gate_rules.GATES}
GOLD_GATED = {m: dg.AssetKey(["gold", m]) for m in gold_gate_rules.GATES}


def _result(key: dg.AssetKey, name: str, res: GateResult) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=name,
        passed=res.success,
        severity=dg.AssetCheckSeverity.ERROR,
        description=res.summary(),
        metadata=res.metadata(),
    )


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(
            BRONZE_GATE,
            asset=key,
            blocking=True,
            description="Every record says where and when it came from and is kept whole: "
            "account, fetched_at (not in the future), round of a listing, post where the "
            "catalog requires one, a real HTTP status, a body, a unique envelope hash.",
        )
        for key in BRONZE_KEYS.values()
    ],
    can_subset=True,
    name="bronze_gate",
)
def bronze_gate(context: dg.AssetCheckExecutionContext, analisa: AnalisaResource):
    # the marks of the accepted endpoints commit with the connection, before any result is
    # reported: the next run judges only what this one did not
    with psycopg.connect(analisa.database_url()) as conn:
        results = bronze_gate_rules.run(conn)
    for endpoint, key in BRONZE_KEYS.items():
        if dg.AssetCheckKey(key, BRONZE_GATE) in context.selected_asset_check_keys:
            yield _result(key, BRONZE_GATE, results[endpoint])


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(
            MALFORMED_CHECK,
            asset=key,
            blocking=False,
            description="Responses that were not valid JSON: kept in bronze, quarantined in "
            "silver, reported here (a warning, the run goes on).",
        )
        for key in BRONZE_KEYS.values()
    ],
    can_subset=True,
    name="malformed_responses",
)
def malformed_responses(context: dg.AssetCheckExecutionContext, analisa: AnalisaResource):
    with psycopg.connect(analisa.database_url()) as conn:
        found = bronze_gate_rules.malformed(conn)
    for endpoint, key in BRONZE_KEYS.items():
        if dg.AssetCheckKey(key, MALFORMED_CHECK) not in context.selected_asset_check_keys:
            continue
        mine = found[endpoint]
        yield dg.AssetCheckResult(
            asset_key=key,
            check_name=MALFORMED_CHECK,
            passed=mine.count == 0,
            severity=dg.AssetCheckSeverity.WARN,
            description=f"{mine.count} responses were not valid JSON: kept in bronze, "
            "quarantined in silver",
            metadata={"malformed": mine.count, "examples": mine.examples},
        )


def _layer_gate(name: str, keys: dict[str, dg.AssetKey], rules, description: str):
    @dg.multi_asset_check(
        specs=[
            dg.AssetCheckSpec(name, asset=key, blocking=True, description=description)
            for key in keys.values()
        ],
        can_subset=True,
        name=name,
    )
    def _gate(context: dg.AssetCheckExecutionContext, analisa: AnalisaResource):
        selected = [
            table
            for table, key in keys.items()
            if dg.AssetCheckKey(key, name) in context.selected_asset_check_keys
        ]
        # the accepted row counts commit with the connection, before any result is reported
        with psycopg.connect(analisa.database_url()) as conn:
            results = rules.run(conn, selected, run_id=context.run.run_id)
        for table in selected:
            yield _result(keys[table], name, results[table])

    return _gate


silver_gate = _layer_gate(
    SILVER_GATE,
    SILVER_GATED,
    silver_gate_rules,
    "What dbt tests cannot say: volume against the last accepted build, counts not negative "
    "(beyond a lone outlier), freshness against bronze, share of answers quarantined.",
)
gold_gate = _layer_gate(
    GOLD_GATE,
    GOLD_GATED,
    gold_gate_rules,
    "What dbt tests cannot say: volume against the last accepted build, rates not negative or "
    "absurd, audience shares in [0, 1] summing to 1, freshness against bronze.",
)
