"""Migration 018 on a database holding brands the old way (global brands, the API's
workspace → brand links): every link becomes the brand's workspace, a brand linked to two
workspaces is copied with its targets, a link to an example brand takes the built seed's
targets, an unlinked brand lands in `default`, and the link table is gone."""

from __future__ import annotations

import psycopg

from analisa.core.db import _migration_files, migrate

MIGRATION = "018_brands_belong_to_workspaces.sql"


def migrate_before_018(url: str) -> None:
    """The migrations before 018, recorded as `migrate` records them."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("create schema if not exists ops")
        conn.execute(
            "create table if not exists ops.schema_migrations ("
            " name text primary key, applied_at timestamptz not null default now())"
        )
        for name, text in _migration_files():
            if name >= MIGRATION:
                break
            with conn.transaction():
                conn.execute(text)
                conn.execute("insert into ops.schema_migrations (name) values (%s)", (name,))


OLD_STATE = """
insert into ops.workspaces (name) values ('acme'), ('rival');
insert into ops.brands (brand_name, followers_min, followers_max)
    values ('Acme Fit', 1000, 50000), ('Solo', null, null), ('Loose', 5, null);
insert into ops.brand_targets (brand_id, dimension, value)
select brand_id, d, v from ops.brands,
    (values ('age', '18-24'), ('interest', 'fitness')) as t (d, v)
where brand_name = 'Acme Fit';
insert into ops.brand_targets (brand_id, dimension, value)
select brand_id, 'country', 'PT' from ops.brands where brand_name = 'Loose';
insert into ops.workspace_brands (workspace_id, brand)
select w.workspace_id, b.brand
from ops.workspaces w, (values ('Acme Fit'), ('Ghost')) as b (brand) where w.name = 'acme'
union all
select w.workspace_id, b.brand
from ops.workspaces w, (values ('Acme Fit'), ('Solo'), ('Exemplo Fit (example)')) as b (brand)
where w.name = 'rival';
-- the example seed as a build left it in gold
create table gold.example_brands (brand_name text, followers_min bigint, followers_max bigint);
create table gold.example_brand_targets (brand_name text, dimension text, value text);
insert into gold.example_brands values ('Exemplo Fit (example)', 10000, 500000);
insert into gold.example_brand_targets values
    ('Exemplo Fit (example)', 'gender', 'F'), ('Exemplo Fit (example)', 'country', 'BR');
"""


def test_existing_links_become_the_brands_workspaces(empty_db):
    migrate_before_018(empty_db)
    with psycopg.connect(empty_db) as conn:
        conn.execute(OLD_STATE)

    assert MIGRATION in migrate(empty_db)

    with psycopg.connect(empty_db) as conn:
        brands = conn.execute(
            "select w.name, b.brand_name, b.followers_min, b.followers_max from ops.brands b"
            " join ops.workspaces w using (workspace_id) order by 1, 2"
        ).fetchall()
        targets = conn.execute(
            "select w.name, b.brand_name, t.dimension, t.value from ops.brand_targets t"
            " join ops.brands b using (brand_id) join ops.workspaces w using (workspace_id)"
            " order by 1, 2, 3, 4"
        ).fetchall()
        link_table = conn.execute("select to_regclass('ops.workspace_brands')").fetchone()[0]
        api_reads_brands = conn.execute(
            "select has_table_privilege(ops.api_role_name(), 'ops.brands', 'select')"
        ).fetchone()[0]
        acme_fit_ids = conn.execute(
            "select count(distinct brand_id) from ops.brands where brand_name = 'Acme Fit'"
        ).fetchone()[0]

    assert brands == [
        ("acme", "Acme Fit", 1000, 50000),  # linked to acme and rival: moved to acme ...
        ("acme", "Ghost", None, None),  # a link to no brand: a brand with no target
        ("default", "Loose", 5, None),  # linked to no workspace
        ("rival", "Acme Fit", 1000, 50000),  # ... and copied into rival
        ("rival", "Exemplo Fit (example)", 10000, 500000),  # the built seed's example
        ("rival", "Solo", None, None),
    ]
    assert acme_fit_ids == 2
    assert targets == [
        ("acme", "Acme Fit", "age", "18-24"),
        ("acme", "Acme Fit", "interest", "fitness"),
        ("default", "Loose", "country", "PT"),
        ("rival", "Acme Fit", "age", "18-24"),
        ("rival", "Acme Fit", "interest", "fitness"),
        ("rival", "Exemplo Fit (example)", "country", "BR"),
        ("rival", "Exemplo Fit (example)", "gender", "F"),
    ]
    assert link_table is None
    assert api_reads_brands is True

    with psycopg.connect(empty_db) as conn:
        # names are unique per workspace now, not across them
        conn.execute(
            "insert into ops.brands (workspace_id, brand_name)"
            " select workspace_id, 'Loose' from ops.workspaces where name = 'acme'"
        )
        try:
            conn.execute(
                "insert into ops.brands (workspace_id, brand_name)"
                " select workspace_id, 'Loose' from ops.workspaces where name = 'default'"
            )
        except psycopg.errors.UniqueViolation:
            pass
        else:
            raise AssertionError("a second Loose in the default workspace was accepted")


def test_a_fresh_database_has_the_default_workspace_and_no_link_table(db_url):
    with psycopg.connect(db_url) as conn:
        assert conn.execute("select name from ops.workspaces").fetchall() == [("default",)]
        assert conn.execute("select to_regclass('ops.workspace_brands')").fetchone()[0] is None
