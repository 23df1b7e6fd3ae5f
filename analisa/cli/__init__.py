"""The `analisa` command (console script `analisa = "analisa.cli:app"`).

The composition root: the only code that wires settings, database, sandbox, collection, the
Dagster pipeline and the API together. Commands live by group: `build` (demo, pipeline,
collect), `data` (ingest), `accounts` (connect), `serve` (serve, sandbox), `database`
(migrate), over the shared set-up in `runtime`; `main` holds the app and its table of commands.
"""

from analisa.cli.main import app

__all__ = ["app"]
