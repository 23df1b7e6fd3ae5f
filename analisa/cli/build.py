"""Commands that run the pipeline: `demo` (sandbox end to end), `pipeline` (from bronze) and
`collect` (platform APIs, then build). Each refuses at once when there is nothing to work on."""

from __future__ import annotations

import os
from typing import Annotated

import psycopg
import typer

from analisa.cli.runtime import (
    console,
    dagster_instance,
    fail,
    log_path,
    setup,
    step,
)
from analisa.cli.summary import print_summary, report_outcome
from analisa.core.settings import get_settings

NOTHING_IN_BRONZE = (
    "Bronze is empty: there is nothing to build yet. Fill it first, with one of:\n"
    "  analisa ingest PATH          load raw API responses you already hold\n"
    "  analisa connect instagram    connect a creator (or tiktok), then `analisa collect`\n"
    "  analisa demo                 the whole pipeline on a local sandbox"
)
NO_CONNECTED_ACCOUNT = (
    "No connected account to collect: connect a creator first with\n"
    "  analisa connect instagram    (or: analisa connect tiktok)\n"
    "or try the pipeline on a local sandbox with `analisa demo`."
)


def bronze_is_empty(url: str) -> bool:
    with psycopg.connect(url) as conn:
        return conn.execute("select not exists (select 1 from bronze.raw_records)").fetchone()[0]


def connected_accounts(url: str) -> int:
    """Active accounts a collection run visits: with a token, or public (Business Discovery)."""
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select count(*) from ops.accounts a where a.active and ("
            "exists (select 1 from ops.oauth_tokens t "
            "where t.platform = a.platform and t.account_id = a.account_id) "
            "or exists (select 1 from ops.account_state s where s.platform = a.platform "
            "and s.account_id = a.account_id and s.kind = 'public'))"
        ).fetchone()[0]


def _run(url: str, job: str, collect: bool, title: str, full_refresh: bool = False) -> None:
    from orchestration.run import run_job

    with step(title):
        outcome = run_job(
            job,
            instance=dagster_instance(),
            collect=collect,
            full_refresh=full_refresh,
            log_path=log_path(),
        )
    report_outcome(outcome)
    if not outcome.success:
        raise fail(f"The pipeline did not finish: see above and {log_path()}", style="red")
    print_summary(url)
    from analisa.cli.similar import enrichment_progress

    with psycopg.connect(url) as conn:
        progress = enrichment_progress(conn)
    if progress:
        console.print(progress)


def pipeline(
    full_refresh: Annotated[
        bool,
        typer.Option(
            "--full-refresh",
            help="Rebuild the incremental models from all of bronze, not only what is new.",
        ),
    ] = False,
) -> None:
    """Build silver, gold and the Parquet exports from what bronze holds (no API calls)."""
    _, url = setup()
    if bronze_is_empty(url):
        raise fail(NOTHING_IN_BRONZE)
    if full_refresh:
        # dbt refuses too (macros/retention.sql); this says why before anything runs
        from orchestration.defs.retention.purge import purged_history, refused_rebuild_message

        with psycopg.connect(url) as conn:
            purged = purged_history(conn)
        if purged:
            raise fail(refused_rebuild_message(*purged))
    _run(
        url,
        "build_from_bronze",
        False,
        "Gates, silver, gold and exports from bronze ...",
        full_refresh=full_refresh,
    )


def collect() -> None:
    """Collect every connected account from the platform APIs, then build silver and gold."""
    _, url = setup()
    if not connected_accounts(url):
        raise fail(NO_CONNECTED_ACCOUNT)
    _run(url, "collect_and_build", True, "Collecting and building ...")


def demo(
    influencers: Annotated[
        int, typer.Option(min=1, help="Influencers per platform in the sandbox.")
    ] = 5,
    posts: Annotated[int, typer.Option(min=1, help="Posts per influencer in the sandbox.")] = 40,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the sandbox data.")] = 7,
    rounds: Annotated[
        int,
        typer.Option(
            min=1,
            help="Collection rounds; the sandbox moves a day on between them (posts grow, get "
            "deleted, appear). Deletions show from the third round on.",
        ),
    ] = 3,
    faults: Annotated[
        bool, typer.Option(help="Inject one truncated response to show quarantine.")
    ] = True,
) -> None:
    """The whole pipeline on a local sandbox: connect its creators through OAuth, collect, build
    silver and gold behind their gates, export Parquet and print a summary. Needs no account."""
    import httpx

    from analisa.cli.sandbox_accounts import connect_sandbox_accounts
    from analisa.core.crypto import TokenVault
    from connectors.token_store import save_token
    from sandbox.server import SandboxServer
    from sandbox.world import SandboxConfig

    settings, url = setup()
    config = SandboxConfig(
        seed=seed, influencers_per_platform=influencers, posts_per_influencer=posts
    )
    with SandboxServer(config) as sandbox:
        os.environ.update(sandbox.settings_overrides())
        get_settings.cache_clear()
        settings = get_settings()
        console.print(f"Sandbox running at {sandbox.base_url} (seed {seed})")

        with (
            step("Connecting sandbox accounts through OAuth ..."),
            httpx.Client(timeout=30) as http,
        ):
            connected = connect_sandbox_accounts(settings, http)
            vault = TokenVault(settings.vault_key.get_secret_value())
            with psycopg.connect(url) as conn, conn.transaction():
                for connection in connected:
                    save_token(conn, vault, connection.token, username=connection.username)
        console.print(
            f"  {len(connected)} accounts connected (tokens encrypted in ops.oauth_tokens)"
        )

        from orchestration.run import run_job

        instance = dagster_instance()
        # Every round collects and builds: a post missing from one round's complete listing is
        # probed in the next round (silver says which), and gold flags it deleted after that.
        for n in range(1, rounds + 1):
            if faults and n == 1:
                sandbox.world.inject_fault("instagram", "media_insights", "truncated_json", count=1)
            with step(f"Round {n}/{rounds}: collection, silver, gold, gates and exports ..."):
                outcome = run_job(
                    "collect_and_build", instance=instance, collect=True, log_path=log_path()
                )
            report_outcome(outcome)
            if not outcome.success:
                break
            if n < rounds:
                sandbox.world.advance()
    if not outcome.success:
        raise fail(f"The pipeline did not finish: see above and {log_path()}", style="red")
    print_summary(url)
    from analisa.cli.similar import enrichment_summary

    with psycopg.connect(url) as conn:
        console.print(enrichment_summary(conn))
    console.print(f"Parquet exports: {settings.export_location} (manifest.json)")
