"""`/metrics` with several uvicorn workers: every worker's requests are counted once, whichever
worker answers the scrape (prometheus_client's multiprocess mode, set up by `run`)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthz_200(text: str) -> float:
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == "analisa_api_responses_total" and s.labels == {
                "route": "/healthz",
                "status": "200",
            }:
                return s.value
    return 0.0


def _serve(port: int, env: dict) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, "-m", "serving_api", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        assert server.poll() is None, server.stderr.read().decode()
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.2)


def _count_after(port: int, requests: int) -> list[float]:
    # new connections each time, so both workers answer some of them
    for _ in range(requests):
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
    return [
        _healthz_200(httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text)
        for _ in range(6)
    ]


def test_two_workers_count_every_request_once(tmp_path):
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}
    env.pop("REDIS_URL", None)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    server = _serve(port, env)
    try:
        before = _count_after(port, 0)[0]
        scrapes = _count_after(port, 40)
    finally:
        server.terminate()
        server.wait(timeout=20)
    # every scrape, whichever worker answers it, sees all 40 requests
    assert scrapes == [before + 40] * 6
    assert before >= 1  # the start-up probe


def test_a_given_directory_is_emptied_of_an_earlier_run(tmp_path):
    folder = tmp_path / "prom"
    folder.mkdir()
    stale = folder / "counter_999999.db"
    stale.write_bytes(b"left by a previous run")
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
        "PROMETHEUS_MULTIPROC_DIR": str(folder),
    }
    env.pop("REDIS_URL", None)
    server = _serve(port, env)
    try:
        scrapes = _count_after(port, 5)
    finally:
        server.terminate()
        server.wait(timeout=20)
    assert not stale.exists()
    assert len(set(scrapes)) == 1 and scrapes[0] >= 5
    assert any(Path(folder).glob("counter_*.db"))  # the workers' own files
