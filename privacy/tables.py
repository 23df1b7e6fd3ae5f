"""Every table that could hold a person's data, found in the database's own catalog.

No hand list: a table another part of the platform adds (an enrichment table keyed by platform,
post and account) is covered the day it exists. Tables proper and materialized views in every
schema but PostgreSQL's own; partitions are read one by one (the leaves hold the rows), views
are skipped (their rows are those of the tables under them).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg
from psycopg import sql

# Tables that name people only by pseudonym (the audit log, the suppression list): never
# erased from, never exported; the erasure requests are scrubbed by their own rule.
PSEUDONYMOUS = {("ops", "audit_log"), ("ops", "suppressions")}
REQUESTS = ("ops", "erasure_requests")
# Schemas other tools own (Dagster's run storage in `public`): texts are redacted in place,
# rows never deleted, so their own bookkeeping stays consistent.
REDACT_ONLY_SCHEMAS = {"public"}
POST_ID_SUFFIXES = ("post_id", "media_id", "video_id")
ACCOUNT_COLUMNS = ("account_id", "open_id", "creator_id", "influencer_id", "ig_user_id")


@dataclass
class Column:
    name: str
    kind: str  # text | json | array | integer | bytes
    type_name: str

    @property
    def is_post_id(self) -> bool:
        return self.kind in ("text", "integer") and self.name.endswith(POST_ID_SUFFIXES)

    @property
    def is_account(self) -> bool:
        return self.kind in ("text", "integer") and (
            self.name in ACCOUNT_COLUMNS or self.name.endswith("_account_id")
        )


@dataclass
class Table:
    schema: str
    name: str
    relkind: str
    columns: list[Column] = field(default_factory=list)
    root: str | None = None
    """The partitioned table a partition belongs to (reports name that one)."""

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def display(self) -> str:
        """The name reports use: a partition's parent table, else the table itself."""
        return self.root or self.qualified

    @property
    def ident(self) -> sql.Composable:
        return sql.Identifier(self.schema, self.name)

    @property
    def has_platform(self) -> bool:
        return any(c.name == "platform" and c.kind == "text" for c in self.columns)

    @property
    def searchable(self) -> list[Column]:
        return [c for c in self.columns if c.kind in ("text", "json", "array")]

    def platform_in_name(self, platforms: tuple[str, ...]) -> str | None:
        """A platform's own table without a platform column (`stg_<platform>__...`)."""
        if self.has_platform:
            return None
        for platform in platforms:
            if f"{platform}_" in self.name or self.name.endswith(f"_{platform}"):
                return platform
        return None

    @property
    def materialized(self) -> bool:
        return self.relkind == "m"

    @property
    def redact_only(self) -> bool:
        return self.schema in REDACT_ONLY_SCHEMAS


_QUERY = """
select n.nspname, c.relname, c.relkind, a.attname, t.typname, t.typcategory,
       coalesce(e.typcategory, '') as element_category,
       (select rn.nspname || '.' || r.relname from pg_class r
        join pg_namespace rn on rn.oid = r.relnamespace
        where c.relispartition and r.oid = pg_partition_root(c.oid)) as root
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
join pg_type t on t.oid = a.atttypid
left join pg_type e on e.oid = t.typelem and t.typcategory = 'A'
where c.relkind in ('r', 'm')
  and n.nspname not in ('pg_catalog', 'information_schema')
  and n.nspname not like 'pg\\_%'
  and has_table_privilege(c.oid, 'SELECT')
order by n.nspname, c.relname, a.attnum
"""

_UNREADABLE = """
select n.nspname || '.' || c.relname
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where c.relkind in ('r', 'm')
  and n.nspname not in ('pg_catalog', 'information_schema')
  and n.nspname not like 'pg\\_%'
  and not has_table_privilege(c.oid, 'SELECT')
order by 1
"""


def unreadable(conn: psycopg.Connection) -> list[str]:
    """Tables this role may not read: they cannot be searched, and the erasure says so."""
    return [r[0] for r in conn.execute(_UNREADABLE)]


def _kind(typname: str, category: str, element: str) -> str | None:
    if typname in ("json", "jsonb"):
        return "json"
    if typname == "bytea":
        return "bytes"
    if category == "S" and typname != "name":
        return "text"
    if category == "A" and element == "S":
        return "array"
    if typname in ("int2", "int4", "int8", "numeric"):
        return "integer"
    return None


def discover(conn: psycopg.Connection) -> list[Table]:
    tables: dict[tuple[str, str], Table] = {}
    for schema, name, relkind, column, typname, category, element, root in conn.execute(_QUERY):
        kind = _kind(typname, category, element)
        table = tables.setdefault((schema, name), Table(schema, name, relkind, root=root))
        if kind is not None:
            table.columns.append(Column(column, kind, typname))
    return [t for t in tables.values() if any(c.kind != "integer" for c in t.columns)]
