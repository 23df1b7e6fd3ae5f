"""Silver gate: what dbt tests cannot say about the typed rows.

dbt tests already hold keys, not-null and accepted values (models/silver/*.yml). Here: each
table keeps its volume against the last accepted build, counts are not negative beyond a lone
outlier, captures keep up with bronze, and silver could use most of each endpoint's latest
answers (quarantine share). A failure stops gold from being rebuilt: the API keeps serving the
last good gold.
"""

from __future__ import annotations

import psycopg

from expectations import layer
from expectations.layer import TableGate, at_least_zero
from expectations.results import GateResult

LAYER = "silver"

_POST = "platform, post_id, captured_at"
_ACCOUNT = "platform, account_id, captured_at"

GATES: dict[str, TableGate] = {
    gate.table: gate
    for gate in (
        TableGate(
            LAYER,
            "int_post_snapshots",
            bounds=tuple(
                at_least_zero(c, _POST)
                for c in ("likes", "comments", "shares", "views", "reach", "saved")
            ),
            fed_by=("listing",),
        ),
        TableGate(
            LAYER,
            "int_account_snapshots",
            bounds=tuple(
                at_least_zero(c, _ACCOUNT)
                for c in ("followers", "following", "posts_count", "likes_count")
            ),
            fed_by=("profile",),
        ),
        TableGate(
            LAYER,
            "int_audience_demographics",
            bounds=(at_least_zero("value", "platform, account_id, dimension, segment"),),
            fed_by=("audience",),
        ),
        # Quarantine only grows with bad answers: its size is judged as a share, not a volume.
        TableGate(LAYER, "quarantine_records", volume=False, quarantine_share=True),
    )
}


def run(
    conn: psycopg.Connection, tables: list[str] | None = None, run_id: str | None = None
) -> dict[str, GateResult]:
    """The gate of the given silver tables (all by default); accepted row counts recorded."""
    return layer.run(conn, [GATES[t] for t in (GATES if tables is None else tables)], run_id)
