"""Which model version serves: the newest classifier version that once covered every caption,
else (the first version, still filling) the newest one. gold's dbt models restate this choice in
SQL (macros/enrichment.sql) over the same table."""

from __future__ import annotations

import psycopg
from psycopg.rows import tuple_row

SERVING_VERSION = """
    select model, model_version, embedding_version
    from silver.enrichment_versions
    order by (completed_at is not null) desc, started_at desc, model_version desc
    limit 1
"""


def serving_version(conn: psycopg.Connection) -> tuple[str, str, str] | None:
    """(model, classifier version, embedding version) gold and lookalikes read, or None."""
    row = conn.cursor(row_factory=tuple_row).execute(SERVING_VERSION).fetchone()
    return (row[0], row[1], row[2]) if row else None
