"""Liveness (/healthz), readiness (/readyz) and Prometheus metrics (/metrics)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from serving_api.deps import CacheDep, GoldDep
from serving_api.metrics import metrics_response
from serving_api.schemas import Health, Ready

router = APIRouter(tags=["operations"])


@router.get(
    "/healthz", response_model=Health, summary="The process answers", operation_id="healthz"
)
async def healthz() -> Response:
    """200 while the process serves requests; checks nothing else (see /readyz)."""
    return Response(b'{"status":"ok"}', media_type="application/json")


@router.get(
    "/readyz",
    response_model=Ready,
    summary="Database and cache readiness",
    operation_id="readyz",
    responses={503: {"model": Ready, "description": "The database does not answer."}},
)
async def readyz(gold: GoldDep, cache: CacheDep) -> JSONResponse:
    """200 when PostgreSQL answers; a missing gold layer or Redis only shows in the body."""
    gold_state = await run_in_threadpool(gold.probe)
    cache_state, version = await cache.status()
    database_ok = gold_state is not None
    ready = Ready(
        status="ok" if database_ok else "error",
        database="ok" if database_ok else "error",
        cache=cache_state,
        gold=gold_state or "unknown",
        gold_version=version,
    )
    return JSONResponse(ready.model_dump(), status_code=200 if database_ok else 503)


@router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    return metrics_response()
