"""TikTok's answer envelopes: `{data, error{code, message, log_id}}` and the OAuth error shape.

Both TikTok hosts number their log_ids from one counter, so every answer of a sandbox carries
a distinct id, as the platform's do.
"""

from __future__ import annotations

import itertools

from sandbox.replies import Reply, json_reply
from sandbox.world import SandboxWorld


class TikTokAnswers:
    def __init__(self, world: SandboxWorld) -> None:
        self.world = world
        self._log_ids = itertools.count(1)

    def log_id(self) -> str:
        return f"{self.world.now():%Y%m%d%H%M%S}{next(self._log_ids):020X}"

    def answer(self, status: int, data: dict, code: str = "ok", message: str = "") -> Reply:
        body = {"data": data, "error": {"code": code, "message": message, "log_id": self.log_id()}}
        return json_reply(status, body)

    def oauth_error(self, error: str, description: str, status: int = 400) -> Reply:
        body = {"error": error, "error_description": description, "log_id": self.log_id()}
        return json_reply(status, body)

    def token_invalid(self) -> Reply:
        return self.answer(
            401,
            {},
            "access_token_invalid",
            "The access token is invalid or not found in the request.",
        )

    def rate_limited(self) -> Reply:
        return self.answer(429, {}, "rate_limit_exceeded", "Rate limit exceeded")

    def scope_missing(self, scope: str) -> Reply:
        return self.answer(
            401,
            {},
            "scope_not_authorized",
            f"The user did not authorize the scope required for completing this request ({scope}).",
        )

    def invalid(self, message: str) -> Reply:
        return self.answer(400, {}, "invalid_params", message)

    def server_error(self) -> Reply:
        return self.answer(
            500, {}, "internal_error", "Something went wrong. Please try again later."
        )
