"""FastAPI dependencies: what the lifespan opened, exposed as `Annotated` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from analisa.core.settings import Settings
from serving_api.cache import ResponseCache
from serving_api.gold import GoldReader


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_gold(request: Request) -> GoldReader:
    return request.app.state.gold


def get_cache(request: Request) -> ResponseCache:
    return request.app.state.cache


SettingsDep = Annotated[Settings, Depends(get_settings)]
GoldDep = Annotated[GoldReader, Depends(get_gold)]
CacheDep = Annotated[ResponseCache, Depends(get_cache)]
