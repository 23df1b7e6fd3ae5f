"""`docs`: the dbt docs site (every model, column and formula, and the lineage), built against
the database and served from this machine. dbt's page loads no script from elsewhere when usage
statistics are off (the project turns them off), so it works offline; `static_index.html` holds
everything in one file for opening without a server."""

from __future__ import annotations

import functools
import http.server
import shutil
from pathlib import Path
from typing import Annotated

import typer

from analisa.cli.runtime import console, fail, setup, step

SITE_FILES = ("index.html", "static_index.html", "manifest.json", "catalog.json")


class _SiteHandler(http.server.SimpleHTTPRequestHandler):
    """The site's files only, no directory listings, and no request lines on the terminal."""

    def list_directory(self, path):
        self.send_error(404)
        return None

    def log_message(self, format, *args):
        return


def serve_site(folder: Path, host: str, port: int) -> http.server.ThreadingHTTPServer:
    """An HTTP server for the built site (call serve_forever, or shutdown from a test)."""
    handler = functools.partial(_SiteHandler, directory=str(folder))
    return http.server.ThreadingHTTPServer((host, port), handler)


def build_site(url: str, home: Path) -> Path:
    """`dbt docs generate --static` against `url`; returns the folder holding only the site."""
    from orchestration.defs.dbt.resources import analisa_dbt_project, dbt_cli

    work = (home / "dbt-docs").resolve()
    target, site = work / "target", work / "site"
    project = analisa_dbt_project()
    with dbt_cli(project, url) as dbt:
        invocation = dbt.cli(
            ["docs", "generate", "--static"], target_path=target, raise_on_error=False
        )
        invocation.wait()
        if not invocation.is_successful():
            raise fail(
                "dbt docs generate failed: see "
                + str(target / "dbt.log")
                + (f"\n{invocation.get_error()}" if invocation.get_error() else "")
            )
    shutil.rmtree(site, ignore_errors=True)
    site.mkdir(parents=True)
    for name in SITE_FILES:
        shutil.copy2(target / name, site / name)
    return site


def docs(
    port: Annotated[int, typer.Option(min=1, max=65535, help="Local port of the site.")] = 8080,
    serve: Annotated[bool, typer.Option(help="Serve the site after building it.")] = True,
) -> None:
    """Build the dbt docs (models, columns, formulas, lineage) and serve them offline."""
    settings, url = setup()
    with step("Building the dbt docs ..."):
        site = build_site(url, settings.home)
    console.print(f"Docs built in {site} (static_index.html opens without a server)")
    if not serve:
        return
    try:
        server = serve_site(site, "127.0.0.1", port)
    except OSError as exc:
        raise fail(f"Cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}") from None
    console.print(f"Serving http://127.0.0.1:{port}/ until Ctrl-C", highlight=False)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
