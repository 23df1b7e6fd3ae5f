"""Instagram's call metering: hourly budgets per app and per account, and the usage headers.

Every Graph answer carries X-App-Usage and X-Business-Use-Case-Usage, percentages of the hour's
budget, so clients can slow down before they hit error 4 or 80002; the collector reads them.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta

from sandbox.instagram.errors import THROTTLE_CODE_APP, THROTTLE_CODE_BUC
from sandbox.replies import Reply
from sandbox.world import SandboxWorld

HOUR = timedelta(hours=1)
_APP_KEY = ("ig-app",)


def _buc_key(account_id: str) -> tuple[str, str]:
    return ("ig-buc", account_id)


def _pct(count: int, limit: int) -> int:
    return int(100 * count / max(limit, 1))


class UsageMeter:
    """Counts calls in the world's sliding windows; callers hold the world lock."""

    def __init__(self, world: SandboxWorld) -> None:
        self.world = world

    def charge(self, app_level: bool, account_id: str, now: datetime) -> int | None:
        """Count one call; the throttle code to answer with when its budget was already spent."""
        cfg = self.world.config
        limits = self.world.limits
        if not app_level and cfg.instagram_app_counts_every_call:
            # the app's platform limit meters every call too: code 4 comes first when it is
            # spent, then the account's own budget (80002)
            app_full = limits.count(_APP_KEY, now, HOUR) >= cfg.instagram_app_calls_per_hour
            limits.hit(_APP_KEY, now)
            buc_key = _buc_key(account_id)
            buc_full = limits.count(buc_key, now, HOUR) >= cfg.instagram_buc_calls_per_hour
            limits.hit(buc_key, now)
            if app_full:
                return THROTTLE_CODE_APP
            return THROTTLE_CODE_BUC if buc_full else None
        if app_level:
            key, limit, code = _APP_KEY, cfg.instagram_app_calls_per_hour, THROTTLE_CODE_APP
        else:
            key, limit = _buc_key(account_id), cfg.instagram_buc_calls_per_hour
            code = THROTTLE_CODE_BUC
        blocked = limits.count(key, now, HOUR) >= limit
        # Calls made while blocked still count: they extend the block, as on the platform.
        limits.hit(key, now)
        return code if blocked else None

    def stamp_now(self, reply: Reply, account_id: str | None) -> Reply:
        """`stamp` at the world's current time (answers outside a Graph call's own clock)."""
        return self.stamp(reply, account_id, self.world.now())

    def stamp(
        self,
        reply: Reply,
        account_id: str | None,
        now: datetime,
        forced_pct: int | None = None,
        forced_minutes: int | None = None,
    ) -> Reply:
        """X-App-Usage and X-Business-Use-Case-Usage from the calls counted in the last hour."""
        cfg, limits = self.world.config, self.world.limits
        app_pct = _pct(limits.count(_APP_KEY, now, HOUR), cfg.instagram_app_calls_per_hour)
        if forced_pct is not None:
            app_pct = max(app_pct, forced_pct)
        reply.headers["X-App-Usage"] = json.dumps(
            {"call_count": app_pct, "total_time": app_pct // 2, "total_cputime": app_pct // 3},
            separators=(",", ":"),
        )
        buc: dict = {}
        if account_id is not None:
            key = _buc_key(account_id)
            limit = cfg.instagram_buc_calls_per_hour
            pct = _pct(limits.count(key, now, HOUR), limit)
            minutes = math.ceil(limits.regain_seconds(key, now, HOUR, limit) / 60)
            if forced_pct is not None:
                pct = max(pct, forced_pct)
            if forced_minutes is not None:
                minutes = max(minutes, forced_minutes)
            buc[account_id] = [
                {
                    "type": "instagram",
                    "call_count": pct,
                    "total_cputime": pct // 3,
                    "total_time": pct // 2,
                    "estimated_time_to_regain_access": minutes,
                }
            ]
        reply.headers["X-Business-Use-Case-Usage"] = json.dumps(buc, separators=(",", ":"))
        return reply
