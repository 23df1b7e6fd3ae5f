"""Client credentials → a bearer token (OAuth 2.0 client credentials grant, RFC 6749 §4.4)."""

from __future__ import annotations

import base64
import binascii
import json
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from serving_api.auth import TokenService
from serving_api.deps import GoldDep, SettingsDep
from serving_api.problems import ApiProblem, documented
from serving_api.schemas import TokenResponse
from serving_api.workspaces import authenticate_client

router = APIRouter(prefix="/v1/auth", tags=["auth"])

MAX_BODY = 4096
_FIELDS = {
    "type": "object",
    "required": ["grant_type"],
    "properties": {
        "grant_type": {"type": "string", "enum": ["client_credentials"]},
        "client_id": {"type": "string", "maxLength": 64},
        "client_secret": {"type": "string", "maxLength": 256},
    },
}


def _invalid(detail: str, status: int = 401) -> ApiProblem:
    headers = {"WWW-Authenticate": 'Basic realm="analisa"'} if status == 401 else None
    return ApiProblem(
        status, "Unauthorized" if status == 401 else "Bad Request", detail, headers=headers
    )


async def _credentials(request: Request) -> tuple[str, str]:
    body = await request.body()
    if len(body) > MAX_BODY:
        raise _invalid("request body too large", 400)
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if kind == "application/json":
            fields = json.loads(body or b"{}")
            if not isinstance(fields, dict):
                raise ValueError
        else:
            fields = {k: v[0] for k, v in parse_qs(body.decode(), strict_parsing=False).items()}
    except (ValueError, UnicodeDecodeError):
        raise _invalid("body must be a form or a JSON object", 400) from None
    if fields.get("grant_type") != "client_credentials":
        raise _invalid("grant_type must be client_credentials", 400)
    client_id, secret = fields.get("client_id"), fields.get("client_secret")
    basic = request.headers.get("authorization", "")
    if basic.lower().startswith("basic "):
        try:
            client_id, _, secret = (
                base64.b64decode(basic[6:], validate=True).decode().partition(":")
            )
        except (binascii.Error, UnicodeDecodeError):
            raise _invalid("malformed Basic credentials") from None
    if not isinstance(client_id, str) or not isinstance(secret, str) or not client_id:
        raise _invalid("client_id and client_secret are required")
    if len(client_id) > 64 or len(secret) > 256:
        raise _invalid("invalid client credentials")
    return client_id, secret


@router.post(
    "/token",
    response_model=TokenResponse,
    summary="Exchange client credentials for a bearer token",
    operation_id="issue_token",
    responses=documented(400, 401, 429, 503),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {"schema": _FIELDS},
                "application/json": {"schema": _FIELDS},
            },
        }
    },
)
async def issue_token(request: Request, gold: GoldDep, settings: SettingsDep) -> TokenResponse:
    """`grant_type=client_credentials` with `client_id` and `client_secret` in the body (or
    HTTP Basic). The token carries the client's workspace and role and lives
    ANALISA_API_TOKEN_TTL seconds; a revoked client gets no new token."""
    client_id, secret = await _credentials(request)
    # Count attempts per client id: guessing secrets meets the rate limit too.
    await request.app.state.cache.check_rate_key(f"token:{client_id}")

    def lookup():
        with gold.reading() as conn:
            return authenticate_client(conn, client_id, secret)

    client = await run_in_threadpool(lookup)
    if client is None:
        raise _invalid("invalid client credentials")
    tokens: TokenService = request.app.state.tokens
    token, _ = tokens.issue(
        subject=client.client_id,
        workspace_id=client.workspace_id,
        workspace=client.workspace,
        role=client.role,
        ttl_seconds=settings.api_token_ttl_seconds,
    )
    return TokenResponse(access_token=token, expires_in=settings.api_token_ttl_seconds)
