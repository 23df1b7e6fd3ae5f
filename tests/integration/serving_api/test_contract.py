"""schemathesis against the running API with a valid token: every documented operation, with
generated valid and invalid inputs, answers as its OpenAPI document says (0 failures)."""

from __future__ import annotations

import socket
import threading
import time

import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, settings

from analisa.core.db import migrate
from analisa.core.settings import Settings
from serving_api.app import create_app
from serving_api.auth import TokenService
from tests.conftest import _create_database, _drop_database
from tests.integration.serving_api.gold_fixture import build_gold, build_workspaces

NO_DB = "postgresql://nobody@127.0.0.1:1/none"
schema = schemathesis.openapi.from_dict(create_app(Settings(DATABASE_URL=NO_DB)).openapi())
# A fresh database numbers acme (build_workspaces) 2, after the `default` workspace the
# migrations make: the token can be made before the app runs, as schemathesis needs it while
# collecting.
ACME_ID = 2
TOKEN, _ = TokenService(Settings(DATABASE_URL=NO_DB)).issue(
    subject="contract", workspace_id=ACME_ID, workspace="acme", role="admin", ttl_seconds=3600
)


@schema.auth()
class ValidToken:
    """The admin token of the served app; schemathesis still leaves it out in its negative
    cases (missing credentials must be a 401)."""

    def get(self, case, context):
        return TOKEN

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def served(server_url):
    name, url = _create_database(server_url)
    migrate(url)
    build_gold(url)
    workspace_ids = build_workspaces(url)
    assert workspace_ids["acme"] == ACME_ID
    app = create_app(Settings(DATABASE_URL=url), db_timeout_seconds=5.0)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "API did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        _drop_database(server_url, name)


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_openapi_document(served, case):
    case.call_and_validate(base_url=served)
