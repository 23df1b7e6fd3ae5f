"""The API in front of gold: app factory and the uvicorn entry point (TLS 1.3 only with TLS)."""

from __future__ import annotations

import logging
import ssl
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import uvicorn
from fastapi import Depends, FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import Response
from fastapi_offline import FastAPIOffline
from starlette.middleware.cors import CORSMiddleware

from analisa.core.db import normalize_url, resolve_database_url, url_parts
from analisa.core.gold_version import DEFAULT_PREFIX
from analisa.core.logging import configure_from_settings
from analisa.core.settings import Settings, get_settings
from serving_api import problems
from serving_api.auth import TokenService
from serving_api.cache import ResponseCache, redis_client
from serving_api.db_role import api_role_name
from serving_api.fast_path import FastPathMiddleware
from serving_api.gold import (
    DatabaseUnavailableError,
    GoldNotBuiltError,
    GoldReader,
    NotVisibleError,
    open_pool,
)
from serving_api.metrics import MetricsMiddleware, finish_multiprocess, prepare_multiprocess
from serving_api.redis_pipe import PipelinedRedis
from serving_api.request_id import RequestIdMiddleware
from serving_api.routers import admin, auth, brands, health, influencers, meta

log = logging.getLogger(__name__)

try:
    __version__ = version("analisa")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0.0.0"

DESCRIPTION = """\
Read access to Analisa's gold layer for the frontend: influencer search, scorecards, daily
series, posts, audience, interests, quality signals and brand fit.

**Authentication**: a bearer JWT from `POST /v1/auth/token` (client credentials) or
`analisa token --workspace NAME --role viewer|analyst|admin`.
**Authorisation**: a token belongs to one workspace and sees only the influencers on its
lists and its own brands; anything else is a 404. `viewer` reads influencers, brands and
freshness; `analyst` also quality signals and fit rankings; `admin` also `/v1/admin/*`.

**Errors** are `application/problem+json` (RFC 9457) with the request id (`X-Request-ID`).
**Paging**: `limit` (at most 100) and the opaque `cursor` from `next_cursor`.
**Caching**: answers carry an `ETag` (send `If-None-Match` for a 304) and `X-Cache:
hit|miss|bypass`; they are cached in Redis until the next gold build.
**Rate limit**: per client, per minute (429 with `Retry-After`).
"""


def create_app(
    settings: Settings | None = None,
    *,
    redis_prefix: str = DEFAULT_PREFIX,
    db_pool_max_size: int = 10,
    db_timeout_seconds: float = 5.0,
) -> FastAPI:
    """Build the API. `redis_prefix` namespaces the cache, rate limit and version keys (tests
    isolate with it); the pool and Redis client open in the lifespan, not here."""
    settings = settings or get_settings()
    configure_from_settings(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.api_database_url:
            url, role = normalize_url(settings.api_database_url), None
        else:
            # Development: the migrating login, acting as this database's API role.
            url = resolve_database_url(settings)
            role = api_role_name(url_parts(url)["dbname"])
            log.info("ANALISA_API_DATABASE_URL not set: connecting with DATABASE_URL as %s", role)
        pool = open_pool(url, max_size=db_pool_max_size, timeout=db_timeout_seconds, set_role=role)
        client = pipelined = None
        if settings.redis_url:
            client = redis_client(
                settings.redis_url, max_connections=settings.api_redis_max_connections
            )
            pipelined = PipelinedRedis.from_url(settings.redis_url)
        else:
            log.info("REDIS_URL not set: API responses are not cached, nor rate-limited")
        app.state.gold = GoldReader(pool, timeout=db_timeout_seconds)
        app.state.cache = ResponseCache(
            client,
            prefix=redis_prefix,
            ttl_seconds=settings.api_cache_ttl_seconds,
            rate_limit_per_minute=settings.api_rate_limit_per_minute,
            pipelined=pipelined,
        )
        try:
            yield
        finally:
            await app.state.cache.aclose()
            pool.close()

    app = FastAPIOffline(
        title="Analisa API",
        version=__version__,
        description=DESCRIPTION,
        openapi_url="/openapi.json",
        lifespan=lifespan,
        dependencies=[Depends(problems.reject_unknown_query)],
    )
    app.state.settings = settings
    app.state.tokens = TokenService(settings)
    for router in (health, auth, influencers, brands, meta, admin):
        app.include_router(router.router)
    problems.install(app)
    app.add_exception_handler(GoldNotBuiltError, _service_unavailable)
    app.add_exception_handler(DatabaseUnavailableError, _service_unavailable)
    app.add_exception_handler(NotVisibleError, _not_found)
    origins = [o.strip() for o in settings.api_cors_origins.split(",") if o.strip()]
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "If-None-Match", "X-Request-ID"],
            expose_headers=["ETag", "X-Request-ID", "X-Cache", "Retry-After"],
            max_age=600,
        )
    # cached authenticated GETs answered here; the rest goes on to CORS and the routes
    app.add_middleware(FastPathMiddleware, skip_cors=bool(origins))
    app.add_middleware(MetricsMiddleware)
    app.add_middleware(RequestIdMiddleware)  # outermost: every answer and log line has the id
    app.openapi = _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            problems.add_schemas(spec)
            app.openapi_schema = spec
        return app.openapi_schema

    return build


async def _service_unavailable(request: Request, exc: Exception) -> Response:
    return problems.problem_response(request, 503, str(exc), headers={"Retry-After": "60"})


async def _not_found(request: Request, exc: Exception) -> Response:
    return problems.problem_response(request, 404, str(exc))


KEEP_ALIVE_SECONDS = 75  # longer than the usual load balancer's idle timeout (60 s)


def tls13_only(config: uvicorn.Config, default: Callable[[], ssl.SSLContext]) -> ssl.SSLContext:
    """uvicorn's context with TLS 1.3 as the minimum: older clients fail the handshake."""
    context = default()
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    return context


def run(
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    settings: Settings | None = None,
    workers: int = 1,
    tls_cert: str | None = None,
    tls_key: str | None = None,
    log_level: str | None = None,
    keep_alive_seconds: int = KEEP_ALIVE_SECONDS,
) -> None:
    """Serve the API with uvicorn (blocks). With several workers each process builds its own
    app from the environment, so `settings` only applies to a single worker. With a
    certificate and key, HTTPS accepting TLS 1.3 only.

    Idle keep-alive connections stay open `keep_alive_seconds` (uvicorn's default, 5 s, would
    close a client's connection between two of its requests a few seconds apart, and make it
    pay a new connection, or a reset on a request sent as the server closed). uvloop and
    httptools are used when installed (uvicorn's `auto`); the access log only at debug or info
    level (it costs every request a log record)."""
    settings = settings or get_settings()
    if (tls_cert is None) != (tls_key is None):
        raise ValueError("TLS needs both a certificate and its key")
    level = (log_level or settings.log_level).lower()
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": level,
        "access_log": level in ("debug", "info", "trace"),
        "server_header": False,
        "timeout_keep_alive": keep_alive_seconds,
    }
    if tls_cert:
        options.update(ssl_certfile=tls_cert, ssl_keyfile=tls_key, ssl_context_factory=tls13_only)
    if workers > 1:
        made = prepare_multiprocess(workers)  # /metrics sums every worker
        try:
            uvicorn.run("serving_api.app:create_app", factory=True, workers=workers, **options)
        finally:
            finish_multiprocess(made)
    else:
        uvicorn.run(create_app(settings), **options)
