"""Liveness and dependency health, for load balancers and `analisa status`."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from serving_api.deps import CacheDep, GoldDep
from serving_api.schemas import Health

router = APIRouter(tags=["health"])


@router.get(
    "/healthz",
    response_model=Health,
    summary="Health of the API and its services",
    responses={503: {"model": Health, "description": "The database does not answer."}},
)
def healthz(gold: GoldDep, cache: CacheDep) -> JSONResponse:
    """200 when PostgreSQL answers; a missing gold layer or Redis only shows in the body."""
    gold_state = gold.probe()
    cache_state, version = cache.status()
    database_ok = gold_state is not None
    health = Health(
        status="ok" if database_ok else "error",
        database="ok" if database_ok else "error",
        cache=cache_state,
        gold=gold_state or "unknown",
        gold_version=version,
    )
    return JSONResponse(health.model_dump(), status_code=200 if database_ok else 503)
