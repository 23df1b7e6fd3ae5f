"""Long-running servers: `serve` (the read-only API and the Dagster UI) and `sandbox` (the
Instagram/TikTok emulator on its own, for trying connectors by hand)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from analisa.cli.runtime import console, load_settings, setup

PORT = {"min": 1, "max": 65535}


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(**PORT, help="API port.")] = 8000,
    dagster_port: Annotated[int, typer.Option(**PORT, help="Dagster UI port.")] = 3000,
    dagster: Annotated[bool, typer.Option(help="Also start the Dagster UI.")] = True,
    tls_cert: Annotated[
        Path | None, typer.Option(exists=True, dir_okay=False, help="PEM certificate: HTTPS.")
    ] = None,
    tls_key: Annotated[
        Path | None, typer.Option(exists=True, dir_okay=False, help="PEM key of --tls-cert.")
    ] = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="API worker processes.")] = 1,
) -> None:
    """Serve the read-only API (/docs) and the Dagster UI (asset graph, checks, runs).

    With --tls-cert and --tls-key the API speaks HTTPS and accepts TLS 1.3 only."""
    if (tls_cert is None) != (tls_key is None):
        raise typer.BadParameter("give both --tls-cert and --tls-key", param_hint="'--tls-key'")
    if dagster and port == dagster_port:
        raise typer.BadParameter(
            f"the API and the Dagster UI cannot share port {port}", param_hint="'--dagster-port'"
        )
    _, url = setup()
    ui = None
    if dagster:
        ui = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "dagster",
                "dev",
                "-m",
                "orchestration.definitions",
                "-a",
                "defs",
                "-h",
                host,
                "-p",
                str(dagster_port),
            ],
            start_new_session=True,  # its own process group: stopped as a whole below
        )
        console.print(f"Dagster UI: http://{host}:{dagster_port}")
    scheme = "https" if tls_cert else "http"
    console.print(f"API: {scheme}://{host}:{port}/docs")
    try:
        from serving_api.app import run
        from serving_api.db_role import api_login_url

        # The API logs in as its own role (reads gold only) with a password made for this run.
        os.environ["ANALISA_API_DATABASE_URL"] = api_login_url(url)
        run(
            host,
            port,
            settings=load_settings(),
            workers=workers,
            tls_cert=str(tls_cert) if tls_cert else None,
            tls_key=str(tls_key) if tls_key else None,
            log_level="warning",
        )
    finally:
        if ui is not None:
            os.killpg(ui.pid, signal.SIGTERM)
            try:
                ui.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(ui.pid, signal.SIGKILL)


def sandbox(
    port: Annotated[int, typer.Option(**PORT, help="Port on 127.0.0.1.")] = 8765,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the generated data.")] = 7,
    influencers: Annotated[int, typer.Option(min=1, help="Influencers per platform.")] = 5,
    posts: Annotated[int, typer.Option(min=1, help="Posts per influencer.")] = 40,
) -> None:
    """Run the Instagram/TikTok sandbox alone, in the foreground (no database needed)."""
    import uvicorn

    from sandbox.app import create_app
    from sandbox.world import SandboxConfig, SandboxWorld

    world = SandboxWorld(
        SandboxConfig(seed=seed, influencers_per_platform=influencers, posts_per_influencer=posts)
    )
    console.print(f"Sandbox: http://127.0.0.1:{port} (seed {seed}); Ctrl-C stops it")
    uvicorn.run(create_app(world), host="127.0.0.1", port=port, log_level="warning")
