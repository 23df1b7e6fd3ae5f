"""Migrations make bronze follow the catalog: one view per endpoint, platforms checked."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
import pytest

from analisa.core import catalog
from analisa.core.db import apply_catalog, migrate


def test_bronze_views_and_platform_check_follow_the_catalog(db_url):
    with psycopg.connect(db_url) as conn:
        views = {
            r[0]
            for r in conn.execute(
                "select table_name from information_schema.views where table_schema = 'bronze'"
            )
        }
        assert views == {e.view for e in catalog.ENDPOINTS}
        # a second migrate finds this catalog applied and changes nothing
        assert apply_catalog(conn) is False
        assert migrate(db_url) == []
        conn.execute(
            "create table bronze.raw_records_2026_01 partition of bronze.raw_records "
            "for values from ('2026-01-01') to ('2026-02-01')"
        )
        row = (
            "h",
            "c",
            "instagram",
            "media",
            "1",
            "r",
            datetime(2026, 1, 5, tzinfo=UTC),
            200,
            "collector",
        )
        insert = (
            "insert into bronze.raw_records (record_hash, content_hash, platform, endpoint, "
            "account_id, round_id, fetched_at, http_status, source) "
            "values (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
        )
        conn.execute(insert, row)
        assert conn.execute("select count(*) from bronze.instagram_media").fetchone()[0] == 1
        assert conn.execute("select count(*) from bronze.instagram_user").fetchone()[0] == 0
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute(insert, ("h2", "c", "myspace", "media", *row[4:]))


def test_dropping_a_database_drops_the_roles_its_migrations_made(server_url):
    from analisa.core.db import database_role_name, drop_database, with_database
    from tests.conftest import _create_database

    name, url = _create_database(server_url)
    migrate(url)
    roles = {database_role_name(name, kind) for kind in ("api", "analyst")}
    with psycopg.connect(url) as conn:
        made = conn.execute("select ops.api_role_name(), ops.analyst_role_name()").fetchone()
    assert set(made) == roles  # the Python rule names what the migrations created

    def present() -> tuple[int, int]:
        with psycopg.connect(with_database(server_url, "postgres"), autocommit=True) as conn:
            databases = conn.execute(
                "select count(*) from pg_database where datname = %s", (name,)
            ).fetchone()[0]
            found = conn.execute(
                "select count(*) from pg_roles where rolname = any(%s)", (sorted(roles),)
            ).fetchone()[0]
        return databases, found

    assert present() == (1, 2)
    drop_database(server_url, name)
    assert present() == (0, 0)
    drop_database(server_url, name)  # nothing left: still no error
    assert present() == (0, 0)
