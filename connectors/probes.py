"""Which posts need an existence probe: asked of silver, never decided here.

The rule is dbt's (`silver.int_posts_to_probe`, beside `int_posts` which decides deletions):
a post missing from a complete listing round of its account and not probed since. The collector
only reads the answer; before the first build there is no such table and nothing to probe.
"""

from __future__ import annotations

import psycopg

PROBE_MODEL = "silver.int_posts_to_probe"


def posts_to_probe(conn: psycopg.Connection, platform: str, account_id: str) -> list[str]:
    if conn.execute("select to_regclass(%s)", (PROBE_MODEL,)).fetchone()[0] is None:
        return []
    rows = conn.execute(
        f"select post_id from {PROBE_MODEL} where platform = %s and account_id = %s "
        "order by post_id",
        (platform, account_id),
    ).fetchall()
    return [r[0] for r in rows]
