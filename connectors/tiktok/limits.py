"""TikTok's limit: 600 requests per minute per endpoint, a sliding window, counted app-wide
unless TIKTOK_RATE_SCOPE=account (then per endpoint and account); no usage headers."""

from __future__ import annotations

from collections.abc import Mapping

from connectors.http import ApiProblem
from connectors.rate_budget import Scope

WINDOW_SECONDS = 60.0


def _key(endpoint: str, account_id: str, settings) -> str:
    per_account = getattr(settings, "tiktok_rate_scope", "app") == "account"
    return f"tiktok:endpoint:{endpoint}" + (f":{account_id}" if per_account else "")


def scopes(endpoint: str, account_id: str, settings) -> tuple[Scope, ...]:
    limit = int(getattr(settings, "tiktok_requests_per_minute", 600))
    return (Scope(_key(endpoint, account_id, settings), limit, WINDOW_SECONDS),)


def blocks_on(problem: ApiProblem, account_id: str, endpoint: str, settings) -> str:
    return _key(endpoint, account_id, settings)


def usage(headers: Mapping[str, str], account_id: str) -> dict[str, tuple[int, float | None]]:
    return {}
