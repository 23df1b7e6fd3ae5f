"""Great Expectations gates, one per layer, as blocking asset checks: a failure stops the
layer after it (GX 1.x suites from expectations/, run by our own checks since dagster-ge
supports only GX < 1.0)."""

import dagster as dg
import psycopg

from expectations import bronze as bronze_suite
from expectations import gold as gold_suite
from expectations import silver as silver_suite
from expectations.runner import SuiteResult
from orchestration.defs.collection.assets import BRONZE_KEYS
from orchestration.lib.resources import AnalisaResource

BRONZE_GATE = "bronze_gate"
SILVER_GATE = "silver_gate"
GOLD_GATE = "gold_gate"
MALFORMED_CHECK = "malformed_responses"

SILVER_GATED = {m: dg.AssetKey(["silver", m]) for m in silver_suite.SUITES}
GOLD_GATED = {m: dg.AssetKey(["gold", m]) for m in gold_suite.SUITES}


def _result(key: dg.AssetKey, name: str, res: SuiteResult) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=name,
        passed=res.success,
        severity=dg.AssetCheckSeverity.ERROR,
        description=res.summary(),
        metadata={
            "rows": res.rows,
            "expectations": res.evaluated,
            "failures": [f.describe() for f in res.failures],
        },
    )


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(BRONZE_GATE, asset=key, blocking=True, description="GX bronze suite")
        for key in BRONZE_KEYS.values()
    ],
    can_subset=True,
    name="bronze_gate",
)
def bronze_gate(context: dg.AssetCheckExecutionContext, analisa: AnalisaResource):
    with psycopg.connect(analisa.database_url()) as conn:
        df = bronze_suite.load(conn)
    for (platform, endpoint), key in BRONZE_KEYS.items():
        if dg.AssetCheckKey(key, BRONZE_GATE) in context.selected_asset_check_keys:
            res = bronze_suite.validate_endpoint(df, platform, endpoint)
            yield _result(key, BRONZE_GATE, res)


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
        rows = conn.execute(
            "select platform, endpoint, record_id, account_id, fetched_at, parse_error "
            "from bronze.raw_records where parse_error is not null order by record_id"
        ).fetchall()
    for (platform, endpoint), key in BRONZE_KEYS.items():
        if dg.AssetCheckKey(key, MALFORMED_CHECK) not in context.selected_asset_check_keys:
            continue
        mine = [r for r in rows if r[0] == platform and r[1] == endpoint]
        yield dg.AssetCheckResult(
            asset_key=key,
            check_name=MALFORMED_CHECK,
            passed=not mine,
            severity=dg.AssetCheckSeverity.WARN,
            description=f"{len(mine)} responses were not valid JSON: kept in bronze, "
            "quarantined in silver",
            metadata={
                "malformed": len(mine),
                "examples": [
                    f"record {r[2]} account {r[3]} at {r[4].isoformat()}: {r[5]}" for r in mine[:10]
                ],
            },
        )


def _layer_gate(name: str, keys: dict[str, dg.AssetKey], suite_module):
    @dg.multi_asset_check(
        specs=[
            dg.AssetCheckSpec(name, asset=key, blocking=True, description=f"GX {name} suite")
            for key in keys.values()
        ],
        can_subset=True,
        name=name,
    )
    def _gate(context: dg.AssetCheckExecutionContext, analisa: AnalisaResource):
        with psycopg.connect(analisa.database_url()) as conn:
            for model, key in keys.items():
                if dg.AssetCheckKey(key, name) in context.selected_asset_check_keys:
                    yield _result(key, name, suite_module.validate_model(conn, model))

    return _gate


silver_gate = _layer_gate(SILVER_GATE, SILVER_GATED, silver_suite)
gold_gate = _layer_gate(GOLD_GATE, GOLD_GATED, gold_suite)
