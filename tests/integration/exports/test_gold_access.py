"""On gold built by dbt from a small bronze: every gold column is documented in the database
(persist_docs) and declared for the Parquet export; the analyst role reads gold and nothing else,
in its own database only; the README's example queries run as that role."""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
import pytest
from psycopg import errors, sql

from analisa.core.db import migrate, set_analyst_password, url_parts
from connectors.bronze_writer import write_records
from exports.parquet import export_gold
from exports.schema import GOLD_TABLES, NOT_EXPORTED, check_columns
from tests.conftest import _create_database, _drop_database
from tests.integration.transforms.dbt_fixtures import dbt_output, run_dbt
from tests.integration.transforms.test_dbt_models import bronze_records

README = Path(__file__).resolve().parents[3] / "README.md"


@pytest.fixture(scope="module")
def gold_url(server_url, tmp_path_factory):
    name, url = _create_database(server_url)
    try:
        migrate(url)
        with psycopg.connect(url) as conn:
            write_records(conn, bronze_records())
        # seed + run: the models and their comments; dbt's own tests are the dbt suite's job
        work = tmp_path_factory.mktemp("dbt")
        for command in (["seed"], ["run"]):
            result = run_dbt(command, url, work, timeout=240)
            assert result.returncode == 0, dbt_output(result)
        yield url
    finally:
        _drop_database(server_url, name)


def gold_relations(conn) -> list[str]:
    return [
        f"gold.{r[0]}"
        for r in conn.execute(
            "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
            " where n.nspname = 'gold' and c.relkind in ('r', 'v', 'm', 'p') order by 1"
        )
    ]


def analyst_login(url: str) -> str:
    role, password = set_analyst_password(url)
    parts = url_parts(url)
    return psycopg.conninfo.make_conninfo(
        host=parts["host"],
        port=parts["port"],
        dbname=parts["dbname"],
        user=role,
        password=password,
    )


def test_every_gold_table_and_column_carries_its_description(gold_url):
    with psycopg.connect(gold_url) as conn:
        undocumented = conn.execute(
            """
            select c.relname || '.' || a.attname
            from pg_attribute a
            join pg_class c on c.oid = a.attrelid
            join pg_namespace n on n.oid = c.relnamespace
            where n.nspname = 'gold' and c.relkind = 'r' and a.attnum > 0 and not a.attisdropped
              and coalesce(col_description(c.oid, a.attnum), '') = ''
            order by 1"""
        ).fetchall()
        tables_without = conn.execute(
            """
            select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
            where n.nspname = 'gold' and c.relkind = 'r'
              and coalesce(obj_description(c.oid, 'pg_class'), '') = ''"""
        ).fetchall()
        comment = conn.execute(
            "select col_description('gold.fct_post_engagement'::regclass, attnum)"
            " from pg_attribute where attrelid = 'gold.fct_post_engagement'::regclass"
            " and attname = 'likes'"
        ).fetchone()[0]
        columns = conn.execute(
            "select count(*) from information_schema.columns where table_schema = 'gold'"
        ).fetchone()[0]
    assert undocumented == []
    assert tables_without == []
    assert columns > 200
    assert "like" in comment.lower()


def test_every_gold_relation_is_exported_with_every_column_declared(gold_url, tmp_path):
    with psycopg.connect(gold_url) as conn:
        relations = gold_relations(conn)
        declared = {t.relation: t for t in GOLD_TABLES}
        assert sorted(relations) == sorted([*declared, *NOT_EXPORTED])
        for relation, t in declared.items():
            schema, name = relation.split(".")
            actual = [
                r[0]
                for r in conn.execute(
                    "select column_name from information_schema.columns"
                    " where table_schema = %s and table_name = %s order by ordinal_position",
                    (schema, name),
                )
            ]
            check_columns(t, actual)
    manifest = export_gold(gold_url, str(tmp_path / "exports"))
    with psycopg.connect(gold_url) as conn:
        for entry in manifest["tables"].values():
            relation = sql.Identifier(*entry["relation"].split("."))
            count = conn.execute(sql.SQL("select count(*) from {}").format(relation)).fetchone()[0]
            assert entry["rows"] == count, entry["relation"]
    assert manifest["tables"]["fct_post_engagement"]["rows"] > 0


def test_the_analyst_reads_gold_and_nothing_else(gold_url):
    login = analyst_login(gold_url)
    with psycopg.connect(login, autocommit=True) as conn:
        influencers = conn.execute("select count(*) from gold.dim_influencers").fetchone()[0]
        assert influencers == 3
        for relation in (
            "silver.int_posts",
            "bronze.raw_records",
            "ops.schema_migrations",
            "ops.oauth_tokens",
        ):
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute(f"select 1 from {relation} limit 1")
        with pytest.raises(errors.ReadOnlySqlTransaction):
            conn.execute("delete from gold.dim_influencers")
        with pytest.raises(errors.ReadOnlySqlTransaction):
            conn.execute("create table gold.mine (x int)")
        assert conn.execute("show statement_timeout").fetchone()[0] == "15min"


def test_the_analyst_reads_nothing_in_another_database(gold_url, db_url):
    # db_url: another migrated database on the same server, with a gold table of its own
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("create table gold.dim_influencers as select 1 as account_id")
    other_login = analyst_login(db_url)
    with psycopg.connect(other_login) as conn:
        assert conn.execute("select count(*) from gold.dim_influencers").fetchone()[0] == 1
    # this database's analyst, connected to the other database: no gold there
    mine = url_parts(analyst_login(gold_url).replace(" ", "&"))  # noqa: F841 (role name below)
    with psycopg.connect(gold_url) as conn:
        role = conn.execute("select ops.analyst_role_name()").fetchone()[0]
    parts = url_parts(db_url)
    foreign = psycopg.conninfo.make_conninfo(
        host=parts["host"], port=parts["port"], dbname=parts["dbname"], user=role
    )
    with psycopg.connect(foreign) as conn, pytest.raises(errors.InsufficientPrivilege):
        conn.execute("select count(*) from gold.dim_influencers")
    # and the other database's analyst reads nothing in this one
    with psycopg.connect(db_url) as conn:
        other_role = conn.execute("select ops.analyst_role_name()").fetchone()[0]
    parts = url_parts(gold_url)
    back = psycopg.conninfo.make_conninfo(
        host=parts["host"], port=parts["port"], dbname=parts["dbname"], user=other_role
    )
    with psycopg.connect(back) as conn, pytest.raises(errors.InsufficientPrivilege):
        conn.execute("select count(*) from gold.dim_influencers")
    assert role != other_role


def readme_queries() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## SQL for analysts", 1)[1].split("\n## ", 1)[0]
    return [q for q in re.findall(r"```sql\n(.*?)```", section, flags=re.S) if "gold." in q]


def test_the_readme_queries_run_as_the_analyst(gold_url):
    queries = readme_queries()
    assert len(queries) == 4
    login = analyst_login(gold_url)
    results = []
    with psycopg.connect(login) as conn:
        for query in queries:
            cur = conn.execute(query)
            results.append((len(cur.description), cur.fetchall()))
    niche, audience, growth, fit = results
    # growth: one row per influencer; fit: the example brand scored for every influencer
    assert len(growth[1]) == 3
    assert len(fit[1]) == 3
    assert audience[0] == 3 and niche[0] == 5
