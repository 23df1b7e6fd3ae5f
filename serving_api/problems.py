"""One error shape for every error: RFC 9457 problem details (`application/problem+json`).

Routing errors (404, 405), validation errors (422, with the failing parameters), auth (401,
403), rate limits (429), no gold or no database (503) and unexpected errors (500) all answer
with the same fields, and the request id to quote.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

log = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"


class InvalidParam(BaseModel):
    name: str = Field(description="The parameter, e.g. `query.limit` or `path.account_id`.")
    reason: str = Field(description="What is wrong with it.")


class Problem(BaseModel):
    """The body of every error response."""

    type: str = Field("about:blank", description="Always `about:blank`: see `title`.")
    title: str = Field(description="The HTTP status phrase, e.g. `Not Found`.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="What went wrong with this request, in words.")
    instance: str | None = Field(None, description="The path that was requested.")
    request_id: str | None = Field(None, description="Quote it when reporting a problem.")
    invalid_params: list[InvalidParam] | None = Field(
        None, description="For 422: each parameter that failed validation, and why."
    )


class ApiProblem(Exception):
    """Raised anywhere in a request to answer with a problem."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        invalid_params: list[dict[str, str]] | None = None,
    ) -> None:
        super().__init__(detail)
        self.invalid_params = invalid_params
        self.status = status
        self.title = title
        self.detail = detail
        self.headers = headers or {}


_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    409: "Conflict",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def problem_response(
    request: Request,
    status: int,
    detail: str,
    *,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    invalid_params: list[dict[str, str]] | None = None,
) -> Response:
    body = Problem(
        title=title or _TITLES.get(status, "Error"),
        status=status,
        detail=detail,
        instance=request.url.path,
        request_id=(request.scope.get("state") or {}).get("request_id"),
        invalid_params=invalid_params,
    )
    return Response(
        body.model_dump_json(exclude_none=True),
        status_code=status,
        media_type=MEDIA_TYPE,
        headers=headers,
    )


def _param_name(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc)


async def _api_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiProblem)
    return problem_response(
        request,
        exc.status,
        exc.detail,
        title=exc.title,
        headers=exc.headers,
        invalid_params=exc.invalid_params,
    )


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "Error")
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"no such path: {request.url.path}"
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        # Starlette names the methods of the first route matching the path only.
        headers["Allow"] = ", ".join(sorted(_allowed(request)))
        detail = f"{request.method} not allowed here; allowed: {headers['Allow']}"
    return problem_response(request, exc.status_code, detail, headers=headers)


def _allowed(request: Request) -> set[str]:
    """The methods the OpenAPI document lists for this path."""
    import re

    methods: set[str] = set()
    for template, operations in request.app.openapi().get("paths", {}).items():
        pattern = re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, request.url.path):
            methods |= {method.upper() for method in operations}
    return methods


async def _validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    params = [
        {"name": _param_name(error.get("loc", ())), "reason": str(error.get("msg", "invalid"))}
        for error in exc.errors()
    ]
    detail = "; ".join(f"{p['name']}: {p['reason']}" for p in params) or "invalid request"
    return problem_response(request, 422, detail, invalid_params=params)


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error serving %s", request.url.path)
    return problem_response(request, 500, "unexpected error; quote the request id")


_ALLOWED_QUERY: dict[int, frozenset[str]] = {}


async def reject_unknown_query(request: Request) -> None:
    """An unknown query parameter is a 422, not silently ignored: a misspelt filter
    (`folowers_min`) would otherwise return everything."""
    if not request.query_params:
        return
    route = request.scope.get("route")
    allowed = _ALLOWED_QUERY.get(id(route))
    if allowed is None:
        allowed = _ALLOWED_QUERY[id(route)] = frozenset(
            _query_names(getattr(route, "dependant", None))
        )
    unknown = sorted(set(request.query_params) - allowed)
    if unknown:
        params = [{"name": f"query.{name}", "reason": "unknown parameter"} for name in unknown]
        raise ApiProblem(
            422,
            "Unprocessable Content",
            "unknown query parameter: " + ", ".join(unknown),
            invalid_params=params,
        )


def _query_names(dependant) -> set[str]:
    if dependant is None:
        return set()
    names = {param.alias for param in getattr(dependant, "query_params", ())}
    for sub in getattr(dependant, "dependencies", ()):
        names |= _query_names(sub)
    return names


def install(app: FastAPI) -> None:
    app.add_exception_handler(ApiProblem, _api_problem)
    app.add_exception_handler(StarletteHTTPException, _http_exception)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(Exception, _unexpected)


def add_schemas(spec: dict[str, Any]) -> None:
    """Put Problem (referenced by every error response) into the OpenAPI components."""
    schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(schema.pop("$defs", {}))
    schemas["Problem"] = schema


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for these error statuses, all with the Problem schema."""
    reasons = {
        400: "The request is malformed.",
        401: "Missing, expired or invalid bearer token.",
        403: "The token's role does not allow this operation.",
        404: "Not found, or not visible to the token's workspace.",
        409: "Conflicts with what exists.",
        422: "A parameter failed validation; `invalid_params` says which and why.",
        429: "Rate limit of the client reached; retry after `Retry-After` seconds.",
        503: "Gold not built yet, or the database does not answer.",
    }
    return {
        status: {
            "description": reasons.get(status, _TITLES.get(status, "Error")),
            "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }
