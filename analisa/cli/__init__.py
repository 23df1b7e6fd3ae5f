"""The `analisa` command: the composition root that wires settings, database, sandbox,
collection, the Dagster pipeline and the API together (orchestration and serving_api are
loaded here by name; nothing else imports them)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from analisa.core.db import migrate, resolve_database_url
from analisa.core.logging import configure_logging
from analisa.core.settings import Settings, get_settings

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
console = Console(stderr=False)
err = Console(stderr=True)


def _setup() -> tuple[Settings, str]:
    """Settings, logging and a migrated database; an embedded server when DATABASE_URL is unset.

    The resolved URL is exported so every process started from here (dbt, Dagster steps,
    the API) reaches the same server, and only this process owns the embedded one.
    """
    get_settings.cache_clear()
    settings = get_settings()
    configure_logging(
        settings.log_level if settings.log_level != "INFO" else "WARNING", settings.log_json
    )
    if not settings.database_url:
        with console.status("Starting embedded PostgreSQL under " + str(settings.home) + " ..."):
            url = resolve_database_url(settings)
        os.environ["DATABASE_URL"] = url
    else:
        url = resolve_database_url(settings)
    os.environ.setdefault("DAGSTER_HOME", str((settings.home / "dagster").resolve()))
    dagster_home = Path(os.environ["DAGSTER_HOME"])
    dagster_home.mkdir(parents=True, exist_ok=True)
    # an empty instance file: default local storage, so the UI of `analisa serve` shows CLI runs
    (dagster_home / "dagster.yaml").touch(exist_ok=True)
    migrate(url)
    get_settings.cache_clear()
    return get_settings(), url


def _instance():
    import dagster as dg

    return dg.DagsterInstance.get()


def _log_path() -> Path:
    """Where dbt's and Dagster's own output goes; the terminal gets progress and a summary."""
    return get_settings().home / "logs" / "pipeline.log"


@contextmanager
def _step(title: str):
    with console.status(title):
        yield
    console.print(f"[green]✓[/] {title.rstrip('. ')}")


def _report_outcome(outcome) -> None:
    for warning in outcome.warnings:
        console.print(f"[yellow]warning[/] {warning}")
    for failed in outcome.failed_checks:
        console.print(f"[red]gate failed[/] {failed}")
    for error in outcome.errors:
        console.print(f"[red]error[/] {error}")
    if outcome.skipped:
        console.print(f"[red]not run[/] (upstream gate failed): {', '.join(outcome.skipped)}")


def print_summary(url: str) -> None:
    import psycopg

    with psycopg.connect(url) as conn:
        counts = conn.execute(
            """
            with p as (select platform from (values ('instagram'), ('tiktok')) v(platform))
            select p.platform,
                (select count(*) from gold.dim_influencers d where d.platform = p.platform),
                (select count(*) from gold.fct_post_engagement f where f.platform = p.platform),
                (select count(*) from gold.fct_post_engagement f
                  where f.platform = p.platform and f.is_deleted),
                (select count(*) from gold.audience_segments a where a.platform = p.platform),
                (select count(*) from bronze.raw_records r where r.platform = p.platform),
                (select count(*) from bronze.raw_records r
                  where r.platform = p.platform and r.parse_error is not null)
            from p order by 1
            """
        ).fetchall()
        top = conn.execute(
            """
            select platform, coalesce(username, account_id), followers, median_engagement_rate,
                   mean_engagement_rate, posts_collected
            from gold.dim_influencers
            order by median_engagement_rate desc nulls last, platform, account_id limit 10
            """
        ).fetchall()
    table = Table(title="Gold, per platform")
    for col in (
        "platform",
        "influencers",
        "posts",
        "deleted",
        "audience rows",
        "bronze records",
        "malformed kept",
    ):
        table.add_column(col, justify="right" if col != "platform" else "left")
    for row in counts:
        table.add_row(*(str(v) for v in row))
    console.print(table)
    top_table = Table(
        title="Top influencers by median engagement rate (last 30 posts, % of followers)"
    )
    for col in ("platform", "influencer", "followers", "median %", "mean %", "posts"):
        top_table.add_column(col, justify="left" if col in ("platform", "influencer") else "right")
    for platform, name, followers, median, mean, posts in top:
        top_table.add_row(
            platform, name, f"{followers:,}", f"{median or 0:.2f}", f"{mean or 0:.2f}", str(posts)
        )
    console.print(top_table)


@app.command()
def demo(
    influencers: Annotated[int, typer.Option(help="Influencers per platform in the sandbox.")] = 5,
    posts: Annotated[int, typer.Option(help="Posts per influencer in the sandbox.")] = 40,
    seed: Annotated[int, typer.Option(help="Seed of the sandbox data.")] = 7,
    rounds: Annotated[
        int, typer.Option(help="Collection rounds (the sandbox moves on between).")
    ] = 2,
    faults: Annotated[
        bool, typer.Option(help="Inject one truncated response to show quarantine.")
    ] = True,
) -> None:
    """Start the platform sandbox, connect and collect every influencer, build silver and gold
    behind their gates, export, and print a summary."""
    from analisa.cli.sandbox_accounts import connect_sandbox_accounts
    from sandbox.server import SandboxServer
    from sandbox.world import SandboxConfig

    settings, url = _setup()
    config = SandboxConfig(
        seed=seed, influencers_per_platform=influencers, posts_per_influencer=posts
    )
    with SandboxServer(config) as sandbox:
        os.environ.update(sandbox.settings_overrides())
        get_settings.cache_clear()
        settings = get_settings()
        console.print(f"Sandbox running at {sandbox.base_url} (seed {seed})")
        import httpx
        import psycopg

        from analisa.core.crypto import TokenVault
        from connectors.token_store import save_token

        with (
            _step("Connecting sandbox accounts through OAuth ..."),
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

        from orchestration.defs.collection.assets import BRONZE_KEYS
        from orchestration.run import run_job

        instance = _instance()
        for n in range(1, rounds):
            if faults and n == 1:
                sandbox.world.inject_fault("instagram", "media_insights", "truncated_json", count=1)
            with _step(f"Collection round {n}/{rounds} ..."):
                outcome = run_job(
                    "collect_and_build",
                    instance=instance,
                    collect=True,
                    selection=list(BRONZE_KEYS.values()),
                    log_path=_log_path(),
                )
            _report_outcome(outcome)
            sandbox.world.advance()
        if faults and rounds == 1:
            sandbox.world.inject_fault("instagram", "media_insights", "truncated_json", count=1)
        with _step(f"Collection round {rounds}/{rounds}, silver, gold, gates and exports ..."):
            outcome = run_job(
                "collect_and_build", instance=instance, collect=True, log_path=_log_path()
            )
        _report_outcome(outcome)
    if not outcome.success:
        err.print(f"[red]The pipeline did not finish: see above and {_log_path()}[/]")
        raise typer.Exit(1)
    print_summary(url)
    console.print(f"Parquet exports: {settings.export_path / 'gold'}")


def _build(job: str, collect: bool, title: str) -> None:
    from orchestration.run import run_job

    _, url = _setup()
    with _step(title):
        outcome = run_job(job, instance=_instance(), collect=collect, log_path=_log_path())
    _report_outcome(outcome)
    if not outcome.success:
        err.print(f"[red]The pipeline did not finish: see above and {_log_path()}[/]")
        raise typer.Exit(1)
    print_summary(url)


@app.command()
def pipeline() -> None:
    """Build everything downstream of bronze (silver, gold, exports) from what bronze holds."""
    _build("build_from_bronze", False, "Gates, silver, gold and exports from bronze ...")


@app.command()
def collect() -> None:
    """Collect every connected account from the configured platform APIs, then build."""
    _build("collect_and_build", True, "Collecting and building ...")


@app.command()
def ingest(
    path: Annotated[Path, typer.Argument(help="A .json/.jsonl file or a folder of them.")],
    strict: Annotated[bool, typer.Option(help="Exit 1 when any envelope is rejected.")] = False,
) -> None:
    """Load raw API responses (envelopes) into bronze; bad envelopes are kept and reported."""
    import psycopg

    from connectors.raw_import import import_path

    _, url = _setup()
    try:
        with psycopg.connect(url) as conn:
            report = import_path(conn, path)
    except FileNotFoundError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    console.print(
        f"{report.files} files, {report.envelopes} envelopes: {report.loaded} loaded, "
        f"{report.duplicates} already in bronze, {len(report.rejected)} rejected"
    )
    for r in report.rejected:
        console.print(f"  [yellow]rejected[/] {r.file}:{r.line}: {r.reason}")
    if strict and report.rejected:
        raise typer.Exit(1)


@app.command()
def connect(
    platform: Annotated[str, typer.Argument(help="instagram or tiktok")],
) -> None:
    """Connect a creator's account: open the consent URL, paste back where it redirected you."""
    import httpx
    import psycopg

    from analisa.core.crypto import TokenVault
    from connectors.oauth_connect import connect_account
    from connectors.token_store import save_token
    from connectors.tokens import OAuthError

    settings, url = _setup()

    def ask(consent_url: str) -> str:
        console.print(f"Open this URL and approve access:\n{consent_url}")
        return typer.prompt("Paste the URL your browser was redirected to")

    try:
        with httpx.Client(timeout=30) as http:
            token = connect_account(settings, http, platform, ask)
    except (OAuthError, ValueError) as exc:
        err.print(f"[red]not connected: {exc}[/]")
        raise typer.Exit(1) from exc
    with psycopg.connect(url) as conn, conn.transaction():
        save_token(conn, TokenVault(settings.vault_key.get_secret_value()), token)
    console.print(f"connected {platform} account {token.account_id}; `analisa collect` includes it")


@app.command("migrate")
def migrate_cmd() -> None:
    """Create or update the database schemas (bronze, ops)."""
    _setup()
    console.print("database is up to date")


@app.command()
def serve(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="API port.")] = 8000,
    dagster_port: Annotated[int, typer.Option(help="Dagster UI port.")] = 3000,
    dagster: Annotated[bool, typer.Option(help="Also start the Dagster UI.")] = True,
) -> None:
    """Serve the read-only API and the Dagster UI (asset graph, checks, runs)."""
    import uvicorn

    _setup()
    ui = None
    if dagster:
        root = Path(__file__).resolve().parents[1]
        ui = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "dagster",
                "dev",
                "-w",
                str(root / "workspace.yaml"),
                "-h",
                host,
                "-p",
                str(dagster_port),
            ],
            cwd=root,
            start_new_session=True,  # its own process group: stopped as a whole below
        )
        console.print(f"Dagster UI: http://{host}:{dagster_port}")
    console.print(f"API: http://{host}:{port}/docs")
    try:
        uvicorn.run(
            "serving_api.app:create_app", factory=True, host=host, port=port, log_level="warning"
        )
    finally:
        if ui is not None:
            os.killpg(ui.pid, signal.SIGTERM)
            try:
                ui.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(ui.pid, signal.SIGKILL)


@app.command()
def sandbox(
    port: Annotated[int, typer.Option()] = 8765,
    seed: Annotated[int, typer.Option()] = 7,
    influencers: Annotated[int, typer.Option()] = 5,
    posts: Annotated[int, typer.Option()] = 40,
) -> None:
    """Run the Instagram/TikTok sandbox in the foreground."""
    import uvicorn

    from sandbox.app import create_app
    from sandbox.world import SandboxConfig, SandboxWorld

    world = SandboxWorld(
        SandboxConfig(seed=seed, influencers_per_platform=influencers, posts_per_influencer=posts)
    )
    uvicorn.run(create_app(world), host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    app()
