"""Instagram's limits, at the level the platform applies them: error 4 and X-App-Usage are the
whole app's; 17 / 32 / 613 / 80002 and X-Business-Use-Case-Usage are one account's."""

from __future__ import annotations

from collections.abc import Mapping

from connectors.http import ApiProblem
from connectors.instagram.errors import parse_app_usage_header, parse_buc_header
from connectors.rate_budget import Scope

APP = "instagram:app"
APP_WIDE_CODES = frozenset({4})
# The usage headers are percentages of a rolling hour's budget.
USAGE_WINDOW_SECONDS = 3600.0


def account_scope(account_id: str) -> str:
    return f"instagram:account:{account_id}"


def scopes(endpoint: str, account_id: str, settings) -> tuple[Scope, ...]:
    """Every call needs the app free and its account free."""
    return (
        Scope(APP, window_seconds=USAGE_WINDOW_SECONDS, metered=True),
        Scope(account_scope(account_id), window_seconds=USAGE_WINDOW_SECONDS, metered=True),
    )


def blocks_on(problem: ApiProblem, account_id: str, endpoint: str, settings) -> str:
    return APP if problem.code in APP_WIDE_CODES else account_scope(account_id)


def usage(headers: Mapping[str, str], account_id: str) -> dict[str, tuple[int, float | None]]:
    """Percent used of each scope (the highest of calls, CPU and time), and the regain wait."""
    out: dict[str, tuple[int, float | None]] = {}
    app = parse_app_usage_header(headers.get("x-app-usage"))
    if app:
        out[APP] = (max(app.values()), None)
    entries = parse_buc_header(headers.get("x-business-use-case-usage")).get(account_id, [])
    if entries:
        pct = max(max(e.call_count, e.total_cputime, e.total_time) for e in entries)
        regain = max(e.estimated_time_to_regain_access for e in entries) * 60.0
        out[account_scope(account_id)] = (pct, regain or None)
    return out
