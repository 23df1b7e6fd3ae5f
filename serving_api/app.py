"""The read-only API in front of gold: app factory and the uvicorn entry point."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from analisa.core.db import resolve_database_url
from analisa.core.gold_version import DEFAULT_PREFIX
from analisa.core.logging import configure_from_settings
from analisa.core.settings import Settings, get_settings
from serving_api.cache import ResponseCache, redis_client
from serving_api.gold import DatabaseUnavailableError, GoldNotBuiltError, GoldReader, open_pool
from serving_api.request_id import RequestIdMiddleware
from serving_api.routers import health, influencers

log = logging.getLogger(__name__)

try:
    __version__ = version("analisa")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0.0.0"

DESCRIPTION = """\
Read-only access to Analisa's gold layer: influencers, their engagement, audience and posts.

Responses are cached in Redis (header `X-Cache: hit|miss|bypass`) until the next gold build.
Metric formulas are in the field descriptions of the response schemas.
"""


def create_app(
    settings: Settings | None = None,
    *,
    redis_prefix: str = DEFAULT_PREFIX,
    db_pool_max_size: int = 10,
    db_timeout_seconds: float = 5.0,
) -> FastAPI:
    """Build the API. `redis_prefix` namespaces the cache and gold version keys (tests isolate
    with it); the pool and Redis client open in the lifespan, not here."""
    settings = settings or get_settings()
    configure_from_settings(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = open_pool(
            resolve_database_url(settings), max_size=db_pool_max_size, timeout=db_timeout_seconds
        )
        client = None
        if settings.redis_url:
            client = redis_client(
                settings.redis_url, max_connections=settings.api_redis_max_connections
            )
        else:
            log.info("REDIS_URL not set: API responses are not cached")
        app.state.gold = GoldReader(pool, timeout=db_timeout_seconds)
        app.state.cache = ResponseCache(
            client, prefix=redis_prefix, ttl_seconds=settings.api_cache_ttl_seconds
        )
        try:
            yield
        finally:
            app.state.cache.close()
            pool.close()

    app = FastAPI(
        title="Analisa API",
        version=__version__,
        description=DESCRIPTION,
        docs_url="/docs",
        openapi_url="/openapi.json",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.include_router(health.router)
    app.include_router(influencers.router)
    app.add_exception_handler(GoldNotBuiltError, _service_unavailable)
    app.add_exception_handler(DatabaseUnavailableError, _service_unavailable)
    app.add_middleware(RequestIdMiddleware)
    return app


async def _service_unavailable(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=503, headers={"Retry-After": "60"})


def run(
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    settings: Settings | None = None,
    workers: int = 1,
) -> None:
    """Serve the API with uvicorn (blocks). With several workers each process builds its own
    app from the environment, so `settings` only applies to a single worker."""
    settings = settings or get_settings()
    log_level = settings.log_level.lower()
    if workers > 1:
        uvicorn.run(
            "serving_api.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=log_level,
        )
    else:
        uvicorn.run(create_app(settings), host=host, port=port, log_level=log_level)
