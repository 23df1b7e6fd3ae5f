"""The sandbox's HTTP face: one FastAPI app serving both platforms under path prefixes.

Handlers are catch-alls that hand raw paths, queries and bodies to the emulations, because the
platforms' routing (versioned Graph paths, trailing slashes) is part of what is emulated.
"""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request, Response

from sandbox.facebook import FacebookLogin
from sandbox.instagram import InstagramGraph, InstagramOAuth
from sandbox.replies import Reply
from sandbox.tiktok import TikTokAnswers, TikTokApi, TikTokOAuth
from sandbox.world import SandboxWorld


def _response(reply: Reply) -> Response:
    return Response(
        content=reply.text.encode("utf-8"),
        status_code=reply.status,
        headers=reply.headers,
        media_type=reply.content_type,
    )


def _control(status: int, body: dict) -> Response:
    return Response(json.dumps(body), status_code=status, media_type="application/json")


async def _form(request: Request) -> dict[str, str]:
    # Parsed by hand: Starlette's form parser needs python-multipart, which is not a dependency.
    return dict(parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True))


def create_app(world: SandboxWorld) -> FastAPI:
    app = FastAPI(title="Analisa platform sandbox", docs_url=None, redoc_url=None, openapi_url=None)
    instagram_login = InstagramOAuth(world)
    instagram = InstagramGraph(world, instagram_login)
    tiktok_answers = TikTokAnswers(world)
    tiktok_login = TikTokOAuth(world, tiktok_answers)
    tiktok = TikTokApi(world, tiktok_answers)
    facebook = FacebookLogin(world)

    @app.get("/instagram/www/oauth/authorize")
    async def instagram_authorize(request: Request) -> Response:
        return _response(instagram_login.authorize(dict(request.query_params)))

    @app.post("/instagram/api/oauth/access_token")
    async def instagram_code_exchange(request: Request) -> Response:
        return _response(instagram_login.code_exchange(await _form(request)))

    @app.get("/instagram/graph/{path:path}")
    async def instagram_graph(path: str, request: Request) -> Response:
        reply = instagram.graph(
            path,
            dict(request.query_params),
            request.headers.get("authorization"),
            str(request.url),
        )
        return _response(reply)

    @app.get("/facebook/www/{version}/dialog/oauth")
    async def facebook_dialog(version: str, request: Request) -> Response:
        return _response(facebook.authorize(dict(request.query_params)))

    @app.get("/facebook/graph/{path:path}")
    async def facebook_graph(path: str, request: Request) -> Response:
        reply = facebook.graph(
            path, dict(request.query_params), request.headers.get("authorization")
        )
        return _response(reply)

    @app.get("/tiktok/www/{path:path}")
    async def tiktok_authorize(path: str, request: Request) -> Response:
        if path.strip("/") != "v2/auth/authorize":
            return _control(404, {"error": "not found"})
        return _response(tiktok_login.authorize(dict(request.query_params)))

    @app.post("/tiktok/open/v2/oauth/token/")
    async def tiktok_token(request: Request) -> Response:
        return _response(tiktok_login.token(await _form(request)))

    @app.api_route("/tiktok/open/{path:path}", methods=["GET", "POST"])
    async def tiktok_api(path: str, request: Request) -> Response:
        if path.strip("/") == "v2/oauth/token":
            return _response(tiktok_login.token(await _form(request)))
        if path.strip("/") == "v2/oauth/revoke":
            return _response(tiktok_login.revoke(await _form(request)))
        reply = tiktok.api(
            request.method,
            path,
            dict(request.query_params),
            request.headers.get("authorization"),
            await request.body(),
        )
        return _response(reply)

    # --- sandbox control, for tests and demos -------------------------------------------------

    @app.get("/_sandbox/health")
    async def health() -> Response:
        return _control(200, {"ok": True, "epoch": world.epoch})

    @app.get("/_sandbox/accounts")
    async def accounts() -> Response:
        return _control(200, world.accounts_summary())

    @app.post("/_sandbox/advance")
    async def advance() -> Response:
        return _control(200, {"epoch": world.advance()})

    @app.post("/_sandbox/faults")
    async def faults(request: Request) -> Response:
        try:
            spec = json.loads(await request.body())
            world.inject_fault(
                spec["platform"],
                spec["endpoint"],
                spec["kind"],
                count=int(spec.get("count", 1)),
                account_id=spec.get("account_id"),
            )
        except (ValueError, KeyError, TypeError) as exc:
            return _control(400, {"error": str(exc)})
        return _control(200, {"ok": True})

    @app.post("/_sandbox/clock")
    async def clock(request: Request) -> Response:
        try:
            seconds = float(json.loads(await request.body())["seconds"])
        except (ValueError, KeyError, TypeError) as exc:
            return _control(400, {"error": str(exc)})
        world.move_clock(timedelta(seconds=seconds))
        return _control(200, {"now": world.now().isoformat()})

    return app
