"""Bronze gate: every raw record says where and when it came from, and is stored whole.

Malformed bodies are not a gate failure (they are kept and quarantined downstream, and the
run goes on); they are counted by a separate warning check.
"""

from __future__ import annotations

import pandas as pd
import psycopg

from analisa.core import catalog
from expectations.runner import SuiteResult, frame, validate

COLUMNS_SQL = """
    select record_hash, platform, endpoint, account_id, object_id, round_id, fetched_at,
           http_status, (body is not null or body_text is not null) as has_body,
           parse_error is not null as malformed
    from bronze.raw_records
"""


def load(conn: psycopg.Connection) -> pd.DataFrame:
    return frame(conn.execute(COLUMNS_SQL))


def suite_for(platform: str, endpoint: str):
    def build(E):
        exps = [
            E.ExpectColumnValuesToBeInSet(column="platform", value_set=[platform]),
            E.ExpectColumnValuesToBeInSet(
                column="endpoint", value_set=sorted(catalog.endpoint_names(platform))
            ),
            E.ExpectColumnValuesToNotBeNull(column="account_id"),
            E.ExpectColumnValuesToNotBeNull(column="round_id"),
            E.ExpectColumnValuesToNotBeNull(column="fetched_at"),
            E.ExpectColumnValuesToBeBetween(column="http_status", min_value=100, max_value=599),
            E.ExpectColumnValuesToBeInSet(column="has_body", value_set=[True]),
            E.ExpectColumnValuesToBeUnique(column="record_hash"),
        ]
        if catalog.endpoint(platform, endpoint).object_id_required:
            exps.append(E.ExpectColumnValuesToNotBeNull(column="object_id"))
        return exps

    return build


def validate_endpoint(df: pd.DataFrame, platform: str, endpoint: str) -> SuiteResult:
    part = df[(df["platform"] == platform) & (df["endpoint"] == endpoint)]
    return validate(
        part.reset_index(drop=True), f"bronze_{platform}_{endpoint}", suite_for(platform, endpoint)
    )
