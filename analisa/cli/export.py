"""`export`: gold (and silver posts and snapshots) as typed, partitioned Parquet, one version
per run behind manifest.json, in a folder or at any fsspec URL."""

from __future__ import annotations

import contextlib
from typing import Annotated

import typer
from rich.table import Table

from analisa.cli.runtime import console, fail, setup
from analisa.core.settings import Settings


def _gold_version(settings: Settings) -> int | None:
    if not settings.redis_url:
        return None
    import redis

    from analisa.core.gold_version import read_gold_version

    with contextlib.suppress(redis.RedisError):
        client = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=3)
        try:
            return read_gold_version(client, prefix=settings.redis_prefix)
        finally:
            client.close()
    return None


def export(
    root: Annotated[
        str | None,
        typer.Option(
            help="Folder or fsspec URL (s3://bucket/path needs the s3 extra; memory:// for "
            "tests). Default: ANALISA_EXPORT_ROOT, else ANALISA_EXPORT_DIR, else "
            "ANALISA_HOME/exports."
        ),
    ] = None,
    keep: Annotated[
        int | None,
        typer.Option(
            min=0,
            max=20,
            help="Older versions kept for readers still on them (default "
            "ANALISA_EXPORT_KEEP_VERSIONS, 1); 0 removes them all.",
        ),
    ] = None,
) -> None:
    """Write gold (and silver posts and snapshots) as Parquet: zstd, partitioned by platform and
    capture date, typed as declared, switched in whole through manifest.json."""
    from exports.parquet import export_gold
    from exports.schema import ExportSchemaError

    settings, url = setup()
    target = root or settings.export_location
    try:
        manifest = export_gold(
            url,
            target,
            keep=settings.export_keep_versions if keep is None else keep,
            gold_version=_gold_version(settings),
        )
    except ExportSchemaError as exc:
        raise fail(f"Nothing exported: {exc}") from None
    except ImportError as exc:
        raise fail(
            f"Cannot write to {target}: {exc}. S3 needs the s3 extra: "
            "pip install -c constraints.txt -e '.[s3]'"
        ) from None
    except (OSError, ValueError) as exc:
        raise fail(f"Cannot write to {target}: {exc}") from None
    table = Table("table", "rows", "files", "partitioned by")
    for name, entry in manifest["tables"].items():
        keys = ", ".join(k["name"] for k in entry["partitioning"]["keys"]) or "-"
        table.add_row(
            f"{entry['layer']}.{name}", str(entry["rows"]), str(len(entry["files"])), keys
        )
    console.print(table)
    console.print(
        f"Export {manifest['build_id']} at {target} (read manifest.json: it names the version "
        "folder and every file)",
        highlight=False,
        soft_wrap=True,
    )
