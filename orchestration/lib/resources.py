"""The one resource every Analisa asset uses: settings and the database, read at run time
(never at import time, so loading definitions needs no environment)."""

from __future__ import annotations

import dagster as dg

from analisa.core.db import resolve_database_url
from analisa.core.logging import bind_context, configure_from_settings, logging_configured
from analisa.core.settings import Settings


class AnalisaResource(dg.ConfigurableResource):
    """Settings come from the environment; `queue_prefix` isolates test runs on a shared broker."""

    queue_prefix: str = "analisa"
    redis_prefix: str = "analisa:"

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Every line our code logs during a run carries its run id; a process Dagster started
        (the UI's runs, a daemon) also gets the project's logging, redaction included."""
        if not logging_configured():
            configure_from_settings(self.settings())
        bind_context(run_id=context.run_id)

    def settings(self) -> Settings:
        return Settings()

    def database_url(self) -> str:
        return resolve_database_url(self.settings())
