"""Row counts of accepted builds (ops.gate_row_counts): the baseline of the volume check.

Only builds whose whole layer gate passed are recorded, so a broken build never becomes the
baseline the next one is compared with.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import psycopg


def previous_counts(conn: psycopg.Connection, layer: str, tables: Iterable[str]) -> dict[str, int]:
    """The row count of each table's last accepted build (tables never accepted are absent)."""
    rows = conn.execute(
        "select distinct on (table_name) table_name, row_count from ops.gate_row_counts "
        "where layer = %s and table_name = any(%s) order by table_name, build_id desc",
        (layer, list(tables)),
    ).fetchall()
    return dict(rows)


def record(
    conn: psycopg.Connection, layer: str, counts: Mapping[str, int], run_id: str | None = None
) -> None:
    """Remember an accepted build; committed with the caller's transaction."""
    with conn.cursor() as cur:
        cur.executemany(
            "insert into ops.gate_row_counts (layer, table_name, row_count, run_id) "
            "values (%s, %s, %s, %s)",
            [(layer, table, rows, run_id) for table, rows in counts.items()],
        )
