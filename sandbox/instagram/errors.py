"""Instagram's error answers, worded and coded as the platform words them.

The connectors classify errors by code and subcode (retry, re-authorize, give up), so each
answer here carries the exact pair the platform documents for that situation.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sandbox.replies import Reply, json_reply

THROTTLE_CODE_BUC = 80002
"""Business Use Case limit: too many calls for one Instagram account."""
THROTTLE_CODE_APP = 4
"""App-level limit (X-App-Usage)."""


def _trace() -> str:
    return "A" + secrets.token_urlsafe(16)


def graph_error(
    message: str,
    code: int,
    *,
    subcode: int | None = None,
    type_: str = "OAuthException",
    status: int = 400,
    transient: bool = False,
) -> Reply:
    error: dict = {"message": message, "type": type_, "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    if transient:
        error["is_transient"] = True
    error["fbtrace_id"] = _trace()
    return json_reply(status, {"error": error}, ascii_only=True)


def missing_object(object_id: str) -> Reply:
    return graph_error(
        f"Unsupported get request. Object with ID '{object_id}' does not exist, cannot be loaded "
        "due to missing permissions, or does not support this operation. Please read the Graph "
        "API documentation at https://developers.facebook.com/docs/graph-api",
        100,
        subcode=33,
        type_="GraphMethodException",
    )


def no_permission() -> Reply:
    return graph_error("(#10) Application does not have permission for this action", 10)


def not_your_account() -> Reply:
    return graph_error("(#200) The app user has not granted access to this Instagram account", 200)


def param_error(message: str) -> Reply:
    return graph_error(f"(#100) {message}", 100)


def nonexisting_field(name: str, node: str) -> Reply:
    return param_error(f"Tried accessing nonexisting field ({name}) on node type ({node})")


def token_expired(expired_at: datetime, now: datetime) -> Reply:
    fmt = "%A, %d-%b-%y %H:%M:%S UTC"
    return graph_error(
        f"Error validating access token: Session has expired on {expired_at.strftime(fmt)}. "
        f"The current time is {now.strftime(fmt)}.",
        190,
        subcode=463,
    )


def throttled(code: int) -> Reply:
    """The answer to a call over its limit: per account (80002) or per app (4)."""
    if code == THROTTLE_CODE_BUC:
        return graph_error(
            "There have been too many calls to this Instagram account. Wait a bit and try again.",
            THROTTLE_CODE_BUC,
            transient=True,
        )
    return graph_error("Application request limit reached", THROTTLE_CODE_APP, transient=True)


def server_error() -> Reply:
    return graph_error(
        "An unexpected error has occurred. Please retry your request later.",
        2,
        status=500,
        transient=True,
    )


def oauth_error(message: str, status: int = 400) -> Reply:
    """The api.instagram.com error shape, which differs from the Graph one."""
    body = {"error_type": "OAuthException", "code": status, "error_message": message}
    return json_reply(status, body, ascii_only=True)
