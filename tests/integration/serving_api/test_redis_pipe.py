"""The fast path's pipelining Redis client: many concurrent calls on one connection, each
with its own reply; scripts loaded when Redis does not know them; a silent server is a
timeout and a closed one a connection error, never a hang."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid

import pytest
import redis

from serving_api.redis_pipe import PipelinedRedis, Script, pack, parse


def test_pack_and_parse_round_trip():
    assert pack("GET", b"k", 7) == b"*3\r\n$3\r\nGET\r\n$1\r\nk\r\n$1\r\n7\r\n"
    reply = b"*4\r\n:1\r\n$3\r\nab\x00\r\n$-1\r\n*1\r\n+OK\r\n-ERR x\r\n"
    value, end = parse(reply)
    assert value == [1, b"ab\x00", None, [b"OK"]]
    error, after = parse(reply, end)
    assert isinstance(error, redis.ResponseError) and str(error) == "ERR x"
    assert after == len(reply)


def test_url_forms():
    client = PipelinedRedis.from_url("redis://u:p%40ss@example.org:6380/2")
    assert (client.host, client.port, client.db) == ("example.org", 6380, 2)
    assert (client.username, client.password) == ("u", "p@ss")
    assert PipelinedRedis.from_url("rediss://example.org") is None
    assert PipelinedRedis.from_url("unix:///run/redis.sock") is None
    assert PipelinedRedis.from_url("redis://example.org/0?socket_timeout=1") is None


def test_concurrent_calls_share_one_connection(redis_url, redis_prefix):
    plain = redis.Redis.from_url(redis_url)
    for n in range(300):
        plain.set(f"{redis_prefix}k{n}", f"v{n}")
    # a script Redis has never seen: the first call takes the NOSCRIPT way
    script = Script(f"-- {uuid.uuid4().hex}\nreturn {{1, redis.call('GET', KEYS[1])}}")

    async def run():
        client = PipelinedRedis.from_url(redis_url)
        try:
            replies = await asyncio.gather(
                *(client.evalsha(script, [f"{redis_prefix}k{n}"], []) for n in range(300))
            )
            connection = await client.connection()
            return replies, connection
        finally:
            await client.aclose()

    replies, connection = asyncio.run(run())
    assert replies == [[1, f"v{n}".encode()] for n in range(300)]
    assert connection.closed  # closed by aclose


def test_a_silent_server_is_a_timeout_and_a_closed_one_an_error():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]
    script = Script("return 1")

    async def run():
        client = PipelinedRedis("127.0.0.1", port, timeout=0.4)
        started = time.monotonic()
        with pytest.raises(redis.TimeoutError):
            await client.evalsha(script, [], [])  # accepted by the kernel, never answered
        waited = time.monotonic() - started
        listener.close()
        with pytest.raises(redis.ConnectionError):
            await client.evalsha(script, [], [])
        return waited

    try:
        waited = asyncio.run(run())
    finally:
        listener.close()
    assert 0.4 <= waited < 3  # the timeout (plus watchdog periods and a loaded machine), no hang
