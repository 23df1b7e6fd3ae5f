"""The one resource every Analisa asset uses: settings and the database, read at run time
(never at import time, so loading definitions needs no environment)."""

from __future__ import annotations

import dagster as dg

from analisa.core.db import resolve_database_url
from analisa.core.settings import Settings


class AnalisaResource(dg.ConfigurableResource):
    """Settings come from the environment; `queue_prefix` isolates test runs on a shared broker."""

    queue_prefix: str = "analisa"
    redis_prefix: str = "analisa:"

    def settings(self) -> Settings:
        return Settings()

    def database_url(self) -> str:
        return resolve_database_url(self.settings())
