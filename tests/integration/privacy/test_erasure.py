"""Erasure against the real stores: PostgreSQL (every schema), RabbitMQ, Redis, Parquet files.

The database holds the raw corpus (tests/integration/privacy/corpus.py) loaded by the ingest
path, operational rows of the collection machinery, a table of another module keyed by
platform, post and account that no code of the erasure names, a materialized view, and a
table of another tool in `public`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from analisa.core.crypto import TokenVault, pseudonymise, subject_pseudonym
from analisa.core.settings import Settings
from connectors.collector import Collector
from connectors.queue import RabbitQueue
from connectors.raw_import import import_path
from connectors.tasks import CollectionTask
from connectors.token_store import save_token
from connectors.tokens import TokenSet
from privacy.access import export as subject_export
from privacy.database import remaining
from privacy.erase import Services, erase
from privacy.scan import Subject
from privacy.suppression import lift
from tests.integration.privacy.corpus import (
    OTHER,
    OTHER_NAME,
    OTHER_POSTS,
    SUBJECT,
    SUBJECT_NAME,
    SUBJECT_POSTS,
    TIKTOK,
    write_corpus,
)

KEY = "test-pseudonym-key"


def settings(**values) -> Settings:
    return Settings(ANALISA_PSEUDONYM_KEY=KEY, **values)


def no_revoke(settings, db_url, platform, account_id) -> str:
    return "not asked (test)"


def token(account_id: str) -> TokenSet:
    return TokenSet(
        platform="instagram",
        account_id=account_id,
        access_token=f"secret-access-{account_id}",
        refresh_token=None,
        access_expires_at=datetime(2027, 1, 1, tzinfo=UTC),
        refresh_expires_at=None,
        scopes=("instagram_business_basic",),
    )


def build(db_url: str, tmp_path) -> None:
    """Bronze from the corpus, plus what the rest of the platform keeps about accounts."""
    with psycopg.connect(db_url) as conn:
        report = import_path(conn, write_corpus(tmp_path / "corpus.jsonl"), KEY)
    assert (report.loaded, report.rejected_total) == (10, 1)
    vault = TokenVault(Settings().vault_key.get_secret_value())
    with psycopg.connect(db_url) as conn, conn.transaction():
        save_token(conn, vault, token(SUBJECT), username=SUBJECT_NAME)
        save_token(conn, vault, token(OTHER), username=OTHER_NAME)
        for account in (SUBJECT, OTHER):
            conn.execute(
                "insert into ops.collection_outbox (task_id, platform, account_id, message,"
                " not_before) values (%s, 'instagram', %s, '{}', now())",
                (f"run1:instagram:{account}:a0", account),
            )
            conn.execute(
                "insert into bronze.collection_ledger (task_id, platform, account_id, round_id,"
                " records, outcome) values (%s, 'instagram', %s, %s, 3, 'done')",
                (f"run0:instagram:{account}:a0", account, f"run0:instagram:{account}"),
            )
        # a module added later: keyed by platform, post and account, named nowhere in privacy/
        conn.execute(
            "create table silver.caption_labels (platform text, post_id text,"
            " account_id text, model text, embedding real[])"
        )
        for post, account in [
            (SUBJECT_POSTS[0], SUBJECT),
            (SUBJECT_POSTS[1], SUBJECT),
            (OTHER_POSTS[0], OTHER),
        ]:
            conn.execute(
                "insert into silver.caption_labels values ('instagram', %s, %s, 'm1', '{0.1,0.2}')",
                (post, account),
            )
        # silver writes other people's @handles as keyed pseudonyms: the person's is theirs too
        conn.execute(
            "create table silver.captions_test (platform text, account_id text, caption text)"
        )
        conn.execute(
            "insert into silver.captions_test values ('instagram', %s, %s)",
            (OTHER, f"with @{pseudonymise(SUBJECT_NAME, KEY)} and @{pseudonymise('ana.b', KEY)}"),
        )
        # keyed by post only (no account column): found through the account's post ids
        conn.execute("create table gold.post_scores (platform text, post_id text, score int)")
        conn.execute(
            "insert into gold.post_scores values ('instagram', %s, 1), ('instagram', %s, 2),"
            " ('instagram', %s, 3)",
            (SUBJECT_POSTS[0], SUBJECT_POSTS[1], OTHER_POSTS[0]),
        )
        conn.execute(
            "create materialized view gold.mv_accounts as"
            " select platform, account_id, username from ops.accounts"
        )
        # another tool's table (a run log in `public`): redacted in place, never deleted from
        conn.execute("create table public.tool_events (id serial, event text)")
        conn.execute(
            "insert into public.tool_events (event) values (%s), (%s)",
            (
                json.dumps({"step": "collect", "accounts": [SUBJECT, OTHER]}),
                "plain line",
            ),
        )
        ws = conn.execute(
            "insert into ops.workspaces (name) values ('acme') returning workspace_id"
        ).fetchone()[0]
        conn.execute(
            "insert into ops.workspace_influencers (workspace_id, platform, account_id)"
            " values (%s, 'instagram', %s), (%s, 'instagram', %s)",
            (ws, SUBJECT, ws, OTHER),
        )


def counts(db_url: str) -> dict[str, int]:
    """Rows of the OTHER creator and of TikTok, table by table: erasure must not touch them."""
    with psycopg.connect(db_url) as conn:
        return {
            "bronze": conn.execute(
                "select count(*) from bronze.raw_records where account_id in (%s, %s)",
                (OTHER, TIKTOK),
            ).fetchone()[0],
            "tokens": conn.execute(
                "select count(*) from ops.oauth_tokens where account_id = %s", (OTHER,)
            ).fetchone()[0],
            "ledger": conn.execute(
                "select count(*) from bronze.collection_ledger where account_id = %s", (OTHER,)
            ).fetchone()[0],
            "embeddings": conn.execute(
                "select count(*) from silver.caption_labels where account_id = %s", (OTHER,)
            ).fetchone()[0],
            "scores": conn.execute(
                "select count(*) from gold.post_scores where post_id = %s", (OTHER_POSTS[0],)
            ).fetchone()[0],
            "lists": conn.execute(
                "select count(*) from ops.workspace_influencers where account_id = %s", (OTHER,)
            ).fetchone()[0],
        }


def substring_hits(db_url: str, needles: list[str]) -> dict[str, int]:
    """A plain, independent search: every text-ish column of every table, case-insensitive
    substring (stricter than the erasure's own token match, used on values that must be gone)."""
    hits: dict[str, int] = {}
    with psycopg.connect(db_url) as conn:
        columns = conn.execute(
            "select table_schema, table_name, column_name from information_schema.columns c"
            " join information_schema.tables t using (table_schema, table_name)"
            " where table_schema not in ('pg_catalog', 'information_schema')"
            " and t.table_type = 'BASE TABLE'"
            " and c.data_type in ('text', 'character varying', 'json', 'jsonb', 'ARRAY')"
        ).fetchall()
        for schema, table, column in columns:
            for needle in needles:
                n = conn.execute(
                    f'select count(*) from "{schema}"."{table}" where "{column}"::text ilike %s',
                    (f"%{needle}%",),
                ).fetchone()[0]
                if n:
                    hits[f"{schema}.{table}.{column}"] = (
                        hits.get(f"{schema}.{table}.{column}", 0) + n
                    )
    return hits


def test_erase_leaves_no_row_holding_the_account_and_keeps_everyone_else(db_url, tmp_path):
    build(db_url, tmp_path)
    before = counts(db_url)
    assert before == {
        "bronze": 6,
        "tokens": 1,
        "ledger": 1,
        "embeddings": 1,
        "scores": 1,
        "lists": 1,
    }

    report = erase(
        settings(),
        db_url,
        "instagram",
        SUBJECT,
        actor="os:test",
        services=Services(),
        revoke=no_revoke,
    )

    assert report.clean, report
    assert report.newly_suppressed
    assert (report.usernames_found, report.post_ids_found) == (1, 2)
    # subject's own 4 answers + the Business Discovery answer filed under OTHER
    assert report.tables["bronze.raw_records"] == {"deleted": 5, "scrubbed": 2}
    assert report.tables["bronze.rejected_envelopes"] == {"deleted": 1, "scrubbed": 0}
    assert report.tables["silver.caption_labels"] == {"deleted": 2, "scrubbed": 0}
    assert report.tables["gold.post_scores"] == {"deleted": 2, "scrubbed": 0}
    assert report.tables["public.tool_events"] == {"deleted": 0, "scrubbed": 1}
    for table in (
        "ops.accounts",
        "ops.oauth_tokens",
        "ops.collection_outbox",
        "bronze.collection_ledger",
        "ops.workspace_influencers",
    ):
        assert report.tables[table]["deleted"] >= 1, table
    # OTHER loses only the Business Discovery answer about the subject filed under it
    assert counts(db_url) == {**before, "bronze": 5}

    # an independent substring search: the id, its posts and the exact username are gone
    hits = substring_hits(db_url, [SUBJECT, *SUBJECT_POSTS])
    assert hits == {}
    with psycopg.connect(db_url) as conn:
        assert (
            conn.execute(
                "select count(*) from gold.mv_accounts where account_id = %s", (SUBJECT,)
            ).fetchone()[0]
            == 0
        )
        # someone else's caption keeps its words; only the mention of the person is replaced,
        # and a longer handle that merely starts with theirs is another account: kept
        caption = conn.execute(
            "select body #>> '{data,0,caption}' from bronze.raw_records"
            " where account_id = %s and endpoint = 'media'",
            (OTHER,),
        ).fetchone()[0]
        assert caption == "with [erased] and @maria.silva.fan #travel"
        comments = conn.execute(
            "select body -> 'comments' -> 'data' from bronze.raw_records"
            " where endpoint = 'media_object'"
        ).fetchone()[0]
        assert comments == [{"id": "c2", "username": "ana.b", "text": "great shot [erased]"}]
        # the other platform's creator whose display name equals the username: someone else
        assert (
            conn.execute(
                "select body #>> '{data,user,display_name}' from bronze.raw_records"
                " where platform = 'tiktok'"
            ).fetchone()[0]
            == SUBJECT_NAME
        )
        event = conn.execute("select event from public.tool_events order by id").fetchall()
        assert json.loads(event[0][0]) == {"step": "collect", "accounts": ["[erased]", OTHER]}
        caption = conn.execute("select caption from silver.captions_test").fetchone()[0]
        assert caption == f"with [erased] and @{pseudonymise('ana.b', KEY)}"
        assert remaining(conn, Subject("instagram", SUBJECT, (SUBJECT_NAME,))) == {}

        audit = conn.execute(
            "select actor, action, subject, outcome, details::text from ops.audit_log"
        ).fetchall()
    assert [(a, b, c, d) for a, b, c, d, _ in audit] == [
        ("os:test", "erase", subject_pseudonym("instagram", SUBJECT, KEY), "ok")
    ]
    assert SUBJECT not in audit[0][4] and SUBJECT_NAME not in audit[0][4]
    assert json.loads(audit[0][4])["rows_deleted"] == report.rows_deleted

    # twice: succeeds, finds nothing, says so
    again = erase(
        settings(),
        db_url,
        "instagram",
        SUBJECT,
        actor="os:test",
        services=Services(),
        revoke=no_revoke,
    )
    assert again.clean and not again.found_anything and not again.newly_suppressed
    assert again.tables == {}
    with psycopg.connect(db_url) as conn:
        outcomes = [r[0] for r in conn.execute("select outcome from ops.audit_log order by 1")]
    assert sorted(outcomes) == ["nothing", "ok"]


def test_after_erasure_ingest_and_collection_store_nothing_until_the_owner_reconnects(
    db_url, tmp_path
):
    build(db_url, tmp_path)
    erase(
        settings(),
        db_url,
        "instagram",
        SUBJECT,
        actor="os:test",
        services=Services(),
        revoke=no_revoke,
    )

    # the same file again: the subject's 4 answers, the Business Discovery answer about them
    # and the rejected line naming them are counted as suppressed; the rest are duplicates
    with psycopg.connect(db_url) as conn:
        report = import_path(conn, write_corpus(tmp_path / "again.jsonl"), KEY)
    assert (report.loaded, report.suppressed, report.duplicates) == (0, 6, 5)
    assert substring_hits(db_url, [SUBJECT]) == {}

    # a collection task for the account: dropped before any call, nothing written
    collector = Collector(settings(), db_url)
    outcome = collector.handle(CollectionTask("instagram", SUBJECT, "run9"))
    assert (outcome.kind, outcome.reason) == ("done", "suppressed")
    assert collector.stats["suppressed"] == 1
    assert substring_hits(db_url, [SUBJECT]) == {}

    # the owner connects again: suppression lifted, audited; their data loads again
    with psycopg.connect(db_url) as conn, conn.transaction():
        assert lift(conn, KEY, "instagram", SUBJECT, actor="os:owner")
    with psycopg.connect(db_url) as conn:
        report = import_path(conn, write_corpus(tmp_path / "third.jsonl"), KEY)
        actions = [r[0] for r in conn.execute("select action from ops.audit_log order by audit_id")]
    assert (report.loaded, report.suppressed) == (5, 0)  # 4 own answers + the discovery answer
    assert actions == ["erase", "suppression_lifted"]


def test_queued_tasks_and_cache_keys_of_the_account_are_removed(
    db_url, tmp_path, amqp_url, redis_url, redis_prefix
):
    import redis

    build(db_url, tmp_path)
    prefix = f"analisa-test-{tmp_path.name[-8:]}"
    queue = RabbitQueue(amqp_url, prefix=prefix)
    client = redis.Redis.from_url(redis_url)
    try:
        for n in range(3):
            queue.publish(CollectionTask("instagram", SUBJECT, f"r{n}"))
            queue.publish(CollectionTask("instagram", OTHER, f"r{n}"))
        queue.publish(CollectionTask("tiktok", SUBJECT, "r9"))  # same id, another platform
        head = f"{redis_prefix}api:v1:0:0:"
        client.set(f"{head}/v1/influencers/instagram/{SUBJECT}", b'{"followers": 1}')
        client.set(
            f"{head}/v1/influencers?limit=50",
            json.dumps({"items": [{"account_id": SUBJECT}, {"account_id": OTHER}]}).encode(),
        )
        client.set(f"{head}/v1/influencers/instagram/{OTHER}", b'{"followers": 2}')
        client.set(f"{redis_prefix}rate:instagram:{SUBJECT}", b"7")

        report = erase(
            settings(),
            db_url,
            "instagram",
            SUBJECT,
            actor="os:test",
            services=Services(
                redis_url=redis_url,
                redis_prefix=redis_prefix,
                amqp_url=amqp_url,
                queue_prefix=prefix,
            ),
            revoke=no_revoke,
        )
        assert report.clean, report
        assert report.queue == {"dropped": 3, "requeued": 4}
        assert report.remaining_tasks == 0
        assert report.cache == {"gold_version": 1, "keys_deleted": 3}
        assert report.remaining_cache_keys == 0
        left = sorted(k.decode() for k in client.scan_iter(match=f"{redis_prefix}*"))
        assert left == sorted(
            [f"{redis_prefix}gold_version", f"{head}/v1/influencers/instagram/{OTHER}"]
        )
        tasks = []
        queue.consume(
            lambda t: tasks.append((t.platform, t.account_id)) or _done(), until_idle=True
        )
        assert sorted(tasks) == sorted([("instagram", OTHER)] * 3 + [("tiktok", SUBJECT)])
    finally:
        queue.delete()
        queue.close()
        client.close()


def _done():
    from connectors.tasks import Outcome

    return Outcome.done()


def test_export_files_are_rewritten_without_the_account(db_url, tmp_path):
    build(db_url, tmp_path)
    root = tmp_path / "exports"
    (root / "gold").mkdir(parents=True)
    posts = pa.table(
        {
            "platform": ["instagram", "instagram", "instagram", "tiktok"],
            "account_id": [SUBJECT, SUBJECT, OTHER, TIKTOK],
            "post_id": [SUBJECT_POSTS[0], SUBJECT_POSTS[1], OTHER_POSTS[0], "v1"],
            "caption": ["my day", "beach", "with @maria.silva", "maria.silva dances"],
            "likes": pa.array([100, 50, 300, 9], pa.int64()),
        }
    )
    pq.write_table(posts, root / "gold" / "fct_post_engagement.parquet")
    pq.write_table(pa.table({"n": [1]}), root / "gold" / "untouched.parquet")

    report = erase(
        settings(),
        db_url,
        "instagram",
        SUBJECT,
        actor="os:test",
        services=Services(export_root=str(root)),
        revoke=no_revoke,
    )
    assert report.clean, report
    assert report.exports["rows_removed"] == 2 and report.exports["rows_scrubbed"] == 1
    assert report.remaining_export_files == {}
    table = pq.read_table(root / "gold" / "fct_post_engagement.parquet")
    assert table.schema == posts.schema
    assert table.to_pylist() == [
        {
            "platform": "instagram",
            "account_id": OTHER,
            "post_id": OTHER_POSTS[0],
            "caption": "with [erased]",
            "likes": 300,
        },
        # another platform: the same words are someone else's
        {
            "platform": "tiktok",
            "account_id": TIKTOK,
            "post_id": "v1",
            "caption": "maria.silva dances",
            "likes": 9,
        },
    ]
    assert pq.read_table(root / "gold" / "untouched.parquet").to_pylist() == [{"n": 1}]


def test_export_files_on_an_object_store_are_rewritten_too(db_url, tmp_path):
    import fsspec

    build(db_url, tmp_path)
    location = f"memory://erasure-{tmp_path.name}/exports"
    fs = fsspec.filesystem("memory")
    table = pa.table({"account_id": [SUBJECT, OTHER], "followers": [1, 2]})
    with fs.open(f"{location}/gold/dim_influencers/part-0.parquet", "wb") as handle:
        pq.write_table(table, handle)
    try:
        report = erase(
            settings(),
            db_url,
            "instagram",
            SUBJECT,
            actor="os:test",
            services=Services(export_root=location),
            revoke=no_revoke,
        )
        assert report.clean, report
        assert report.exports["rows_removed"] == 1
        with fs.open(f"{location}/gold/dim_influencers/part-0.parquet", "rb") as handle:
            assert pq.read_table(handle).to_pylist() == [{"account_id": OTHER, "followers": 2}]
    finally:
        fs.rm(f"memory://erasure-{tmp_path.name}", recursive=True)


def test_subject_export_holds_every_table_that_had_them_without_secrets(db_url, tmp_path):
    build(db_url, tmp_path)
    data = subject_export(db_url, KEY, "instagram", SUBJECT, actor="os:test")

    assert data["usernames"] == [SUBJECT_NAME]
    tables = set(data["tables"])
    assert {
        "bronze.raw_records",
        "bronze.rejected_envelopes",
        "bronze.collection_ledger",
        "ops.accounts",
        "ops.oauth_tokens",
        "ops.collection_outbox",
        "ops.workspace_influencers",
        "silver.caption_labels",
        "gold.post_scores",
        "gold.mv_accounts",
        "public.tool_events",
    } <= tables
    # 4 own answers, the discovery answer, 2 answers of OTHER that mention them
    assert data["row_counts"]["bronze.raw_records"] == 7
    bodies = [r["body"] for r in data["tables"]["bronze.raw_records"]]
    assert {
        "user_id": SUBJECT,
        "username": SUBJECT_NAME,
        "followers_count": 1000,
        "follows_count": 10,
        "media_count": 2,
        "id": SUBJECT,
    } in bodies
    token_row = data["tables"]["ops.oauth_tokens"][0]
    assert token_row["access_token_enc"].startswith("[redacted")
    text = json.dumps(data)
    assert "secret-access" not in text
    assert OTHER not in json.dumps(data["tables"]["ops.oauth_tokens"])
    with psycopg.connect(db_url) as conn:
        audit = conn.execute(
            "select action, subject, outcome, details::text from ops.audit_log"
        ).fetchall()
    assert audit[0][:3] == ("subject_export", subject_pseudonym("instagram", SUBJECT, KEY), "ok")
    assert SUBJECT not in audit[0][3]


@pytest.mark.parametrize(
    ("platform", "bad", "message"),
    [
        ("instagram", "", "account id is required"),
        ("instagram", "   ", "account id is required"),
        ("instagram", "1" * 129, "at most 128"),
        ("instagram", "1784140\t0000000777", "printable"),
        ("myspace", SUBJECT, "unknown platform"),
    ],
)
def test_erase_refuses_bad_input_and_changes_nothing(db_url, platform, bad, message):
    with pytest.raises(ValueError, match=message):
        erase(settings(), db_url, platform, bad, actor="os:test", services=Services())
    with psycopg.connect(db_url) as conn:
        assert conn.execute("select count(*) from ops.suppressions").fetchone()[0] == 0
        assert conn.execute("select count(*) from ops.audit_log").fetchone()[0] == 0


def test_a_write_in_flight_commits_before_the_erasure_and_is_erased_with_the_rest(db_url):
    """The suppression lock: a bronze write holds it shared until its commit; the erasure waits
    for it, so the write either lands before the erasure (and is deleted) or sees the account
    suppressed (and stores nothing)."""
    import threading
    import time

    from connectors.bronze_writer import write_records
    from connectors.records import RawRecord

    def record(n: int) -> RawRecord:
        return RawRecord(
            platform="instagram",
            endpoint="user",
            account_id=SUBJECT,
            round_id=f"r{n}",
            fetched_at=datetime(2026, 10, 3, n, tzinfo=UTC),
            status=200,
            body_text=json.dumps({"id": SUBJECT, "username": SUBJECT_NAME}),
        )

    writer = psycopg.connect(db_url)
    writer.execute("begin")
    assert write_records(writer, [record(1)], pseudonym_key=KEY) == 1  # not committed yet
    result: dict = {}
    thread = threading.Thread(
        target=lambda: result.update(
            report=erase(
                settings(),
                db_url,
                "instagram",
                SUBJECT,
                actor="os:test",
                services=Services(),
                revoke=no_revoke,
            )
        )
    )
    thread.start()
    time.sleep(1.0)
    assert thread.is_alive()  # waiting for the write in flight
    writer.execute("commit")
    thread.join(timeout=60)
    writer.close()
    assert result["report"].clean
    assert result["report"].tables["bronze.raw_records"]["deleted"] == 1

    counts: dict[str, int] = {}
    with psycopg.connect(db_url) as conn, conn.transaction():
        assert write_records(conn, [record(2)], pseudonym_key=KEY, counts=counts) == 0
    assert counts == {"suppressed": 1}
    assert substring_hits(db_url, [SUBJECT]) == {}
