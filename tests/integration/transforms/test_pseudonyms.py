"""Other people's @handles in captions are keyed pseudonyms in silver, equal to the Python HMAC;
the key reaches the database only as a session setting: not in dbt's files, not in any table,
not in the text of any statement the server saw."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import uuid
from datetime import UTC, datetime

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from analisa.core.crypto import pseudonymise
from connectors.bronze_writer import write_records
from connectors.records import RawRecord
from orchestration.lib.dbt_session import write_launcher
from tests.integration.transforms.dbt_fixtures import dbt_output, run_dbt

IG, TT = "17841400000000077", "-000OcPseudoTest"
FETCHED = datetime(2026, 10, 5, 12, 0, 0, tzinfo=UTC)


def _record(platform, endpoint, account, body, round_id="r1") -> RawRecord:
    return RawRecord(
        platform=platform,
        endpoint=endpoint,
        account_id=account,
        round_id=round_id,
        fetched_at=FETCHED,
        status=200,
        body_text=json.dumps(body, ensure_ascii=False),
    )


CAPTIONS = {
    "17900000000000701": "Treino com @Maria.Silva e @joao_22. Foto: @studio.rio #fitness",
    "17900000000000702": "Sem menções #moda",
    "17900000000000703": "contato: ana@gmail.com @",
}


def _bronze() -> list[RawRecord]:
    media = [
        {
            "id": post_id,
            "caption": caption,
            "media_type": "IMAGE",
            "media_product_type": "FEED",
            "timestamp": "2026-10-01T10:00:00+0000",
            "like_count": 10,
            "comments_count": 1,
        }
        for post_id, caption in CAPTIONS.items()
    ]
    media.append(
        {"id": "17900000000000704", "media_type": "IMAGE", "timestamp": "2026-10-01T09:00:00+0000"}
    )
    profile = {
        "user_id": IG,
        "username": "ana.fit",
        "followers_count": 1000,
        "follows_count": 10,
        "media_count": 4,
        "id": "8412397500000077",
    }
    videos = {
        "data": {
            "videos": [
                {
                    "id": "7433000000000000777",
                    "create_time": 1759300000,
                    "title": "Receita com @ChefBia",
                    "video_description": "Receita com @ChefBia! Obrigada @Mercado_Sol",
                    "like_count": 5,
                    "comment_count": 1,
                    "share_count": 0,
                    "view_count": 100,
                }
            ],
            "cursor": 0,
            "has_more": False,
        },
        "error": {"code": "ok", "message": "", "log_id": "x"},
    }
    return [
        _record("instagram", "user", IG, profile),
        _record("instagram", "media", IG, {"data": media}),
        _record("tiktok", "video_list", TT, videos),
    ]


def _statements_seen(url: str, dbname: str, stop: threading.Event, seen: list[str]) -> None:
    """Every statement text of the test database's other sessions, sampled until `stop`."""
    with psycopg.connect(url, autocommit=True) as conn:
        while not stop.is_set():
            for (query,) in conn.execute(
                "select query from pg_stat_activity where datname = %s and pid <> pg_backend_pid()",
                (dbname,),
            ):
                if query:
                    seen.append(query)
            stop.wait(0.02)


@pytest.mark.timeout(300)
def test_mentions_are_hmac_pseudonyms_and_the_key_is_stored_nowhere(db_url, tmp_path, monkeypatch):
    key = f"test pseudonym key {uuid.uuid4().hex}"  # a space: escaped in PGOPTIONS
    monkeypatch.setenv("ANALISA_PSEUDONYM_KEY", key)
    with psycopg.connect(db_url) as conn, conn.transaction():
        assert write_records(conn, _bronze(), pseudonym_key=key) == 3

    dbname = conninfo_to_dict(db_url)["dbname"]
    stop, seen = threading.Event(), []
    sampler = threading.Thread(target=_statements_seen, args=(db_url, dbname, stop, seen))
    sampler.start()
    try:
        result = run_dbt(["build", "--select", "tag:silver"], db_url, tmp_path)
    finally:
        stop.set()
        sampler.join()
    assert result.returncode == 0, dbt_output(result)

    def p(handle: str) -> str:
        return "@" + pseudonymise(handle, key)

    with psycopg.connect(db_url) as conn:
        captions = dict(
            conn.execute(
                "select post_id, caption from silver.stg_instagram__media where account_id = %s",
                (IG,),
            ).fetchall()
        )
        video = conn.execute(
            "select title, video_description, caption from silver.stg_tiktok__videos"
        ).fetchone()
        own = conn.execute(
            "select username from silver.stg_instagram__account_snapshots"
        ).fetchone()[0]
        hashtags = conn.execute(
            "select hashtags from silver.stg_instagram__media where post_id = '17900000000000701'"
        ).fetchone()[0]
        # the SQL function itself, on hand-chosen inputs: UTF-8, empty, keys of exactly one
        # block (64 bytes), over it (hashed first), and over it only as UTF-8 bytes
        long_key, block_key, wide_key = "k" * 100, "z" * 64, "é" * 40
        sql_hmac = conn.execute(
            "select ops.hmac_sha256_hex('maria.silva', %s), ops.hmac_sha256_hex('José ção', %s),"
            " ops.hmac_sha256_hex('', %s), ops.hmac_sha256_hex('a', %s),"
            " ops.hmac_sha256_hex('a', %s),"
            " ops.hmac_sha256_hex('what do ya want for nothing?', 'Jefe')",
            (key, long_key, key, block_key, wide_key),
        ).fetchone()

    # handles are lower-cased (case-insensitive on the platforms); a trailing full stop stays
    assert captions == {
        "17900000000000701": f"Treino com {p('maria.silva')} e {p('joao_22')}. Foto: "
        f"{p('studio.rio')} #fitness",
        "17900000000000702": "Sem menções #moda",
        "17900000000000703": f"contato: ana{p('gmail.com')} @",
        "17900000000000704": None,
    }
    assert pseudonymise("maria.silva", key) == (
        captions["17900000000000701"].split()[2].removeprefix("@")
    )
    assert video == (
        f"Receita com {p('chefbia')}",
        f"Receita com {p('chefbia')}! Obrigada {p('mercado_sol')}",
        f"Receita com {p('chefbia')}! Obrigada {p('mercado_sol')}",
    )
    assert hashtags == "fitness"
    # the influencer is the subject of the analysis: their own name stays (docs/privacy.md)
    assert own == "ana.fit"
    assert sql_hmac == (
        pseudonymise("maria.silva", key),
        pseudonymise("José ção", long_key),
        pseudonymise("", key),
        pseudonymise("a", block_key),
        pseudonymise("a", wide_key),
        # RFC 4231, test case 2: a value published with the standard, not computed by us
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    )

    # not in any statement the server saw while dbt ran (dbt's were sampled) ...
    assert any("silver" in q for q in seen)
    assert not [q for q in seen if key in q]
    # ... nor in dbt's target files and logs ...
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert key.encode() not in path.read_bytes(), path
    # ... nor in any table, nor in settings stored by the server
    with psycopg.connect(db_url) as conn:
        tables = conn.execute(
            "select table_schema, table_name from information_schema.tables"
            " where table_type = 'BASE TABLE'"
            " and table_schema not in ('pg_catalog', 'information_schema')"
        ).fetchall()
        assert len(tables) > 20
        for schema, table in tables:
            hits = conn.execute(
                sql.SQL("select count(*) from {}.{} t where strpos(t::text, %s) > 0").format(
                    sql.Identifier(schema), sql.Identifier(table)
                ),
                (key,),
            ).fetchone()[0]
            assert hits == 0, f"{schema}.{table}"
        stored = conn.execute(
            "select count(*) from pg_db_role_setting where array_to_string(setconfig, ' ') like %s",
            ("%pseudonym%",),
        ).fetchone()[0]
        assert stored == 0
        # and a session without the key gets a clear error, not a hash under an empty key
        with pytest.raises(
            psycopg.errors.RaiseException, match=r"analisa\.pseudonym_key is not set"
        ):
            conn.execute("select ops.pseudonym('someone')")


def test_the_launcher_gives_dbt_sessions_the_key_and_this_process_nothing(
    db_url, tmp_path, monkeypatch
):
    """What dbt's connections get, shown by a stand-in for dbt run through the same launcher."""
    key = f"launcher key {uuid.uuid4().hex}"
    monkeypatch.setenv("ANALISA_PSEUDONYM_KEY", key)
    launcher = write_launcher(tmp_path, sys.executable)
    probe = (
        "import psycopg, sys; conn = psycopg.connect(sys.argv[1]);"
        "print(conn.execute(\"select current_setting('analisa.pseudonym_key')\").fetchone()[0])"
    )
    done = subprocess.run(
        [str(launcher), "-c", probe, db_url], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == key
    assert key not in launcher.read_text()
    assert "analisa.pseudonym_key" not in os.environ.get("PGOPTIONS", "")
