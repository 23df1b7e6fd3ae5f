"""Run the sandbox in a background thread, for tests and for `analisa demo`."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import uvicorn

from sandbox.app import create_app
from sandbox.world import SandboxConfig, SandboxWorld

_STARTUP_TIMEOUT = 10.0


class SandboxServer:
    """A SandboxWorld served on 127.0.0.1 (a free port by default); use as a context manager."""

    def __init__(
        self,
        config_or_world: SandboxConfig | SandboxWorld | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        if isinstance(config_or_world, SandboxWorld):
            self.world = config_or_world
        else:
            self.world = SandboxWorld(config_or_world)
        self.host = host
        self._port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def port(self) -> int:
        if self._socket is None:
            raise RuntimeError("the sandbox server is not running")
        return self._socket.getsockname()[1]

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def settings_overrides(self) -> dict[str, str]:
        """Environment-style settings that point the connectors at this sandbox."""
        base = self.base_url
        return {
            "INSTAGRAM_AUTHORIZE_URL": f"{base}/instagram/www/oauth/authorize",
            "INSTAGRAM_API_URL": f"{base}/instagram/api",
            "INSTAGRAM_GRAPH_URL": f"{base}/instagram/graph",
            "TIKTOK_AUTHORIZE_URL": f"{base}/tiktok/www/v2/auth/authorize/",
            "TIKTOK_API_URL": f"{base}/tiktok/open",
            "FACEBOOK_AUTHORIZE_URL": f"{base}/facebook/www/v23.0/dialog/oauth",
            "FACEBOOK_GRAPH_URL": f"{base}/facebook/graph",
        }

    def start(self) -> SandboxServer:
        # Binding here, before uvicorn starts, gives a free port without a race.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self._port))
        self._socket = sock
        config = uvicorn.Config(
            create_app(self.world), log_level="warning", access_log=False, lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="sandbox", daemon=True
        )
        self._thread.start()
        self._wait_until_up()
        return self

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + _STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self._thread is not None and not self._thread.is_alive():
                raise RuntimeError("the sandbox server stopped during startup")
            if self._server is not None and self._server.started:
                try:
                    httpx.get(f"{self.base_url}/_sandbox/health", timeout=1.0)
                    return
                except httpx.TransportError:
                    pass
            time.sleep(0.01)
        self.stop()
        raise RuntimeError("the sandbox server did not start in time")

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = None
        self._socket = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
