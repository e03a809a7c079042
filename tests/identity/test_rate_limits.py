"""Rate limits shared by gateway replicas through a real Redis, counted
locally between flushes (``gateway.ratelimit``)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import time
import uuid

import pytest
import redis.asyncio as aioredis

from gateway.ratelimit import Limit, RateLimiter, RateLimitSettings
from tests.support.servers import REDIS_URL, free_port

pytestmark = pytest.mark.integration

LIMIT = Limit(4, 86400)  # a day: no window ends during a test
SETTINGS = RateLimitSettings(per_credential=LIMIT, per_address=LIMIT)


@contextlib.asynccontextmanager
async def replicas(prefix: str, count: int, url: str = REDIS_URL, flush_seconds: float = 60):
    """``count`` limiters as in as many gateway processes, each with its Redis client."""
    clients = [aioredis.from_url(url, socket_timeout=1, socket_connect_timeout=1) for _ in range(count)]
    try:
        yield [RateLimiter(c, prefix, SETTINGS, flush_seconds=flush_seconds) for c in clients]
    finally:
        for client in clients:
            await client.aclose()


def unique(redis_prefix: str) -> str:
    return f"{redis_prefix}rl-{uuid.uuid4().hex[:6]}:"


def test_replicas_share_their_counts(redis_prefix):
    async def scenario():
        async with replicas(unique(redis_prefix), 2) as (a, b):
            assert [a.hit("cred:1", LIMIT) for _ in range(3)] == [None] * 3
            await a.flush()
            await b.flush()  # nothing of its own to send yet: learns nothing either
            assert b.hit("cred:1", LIMIT) is None   # 4 of 4
            await b.flush()                         # learns A's three
            wait = b.hit("cred:1", LIMIT)
            assert wait is not None and 1 <= wait <= 86400
            # A has not heard of B's hit yet: one more passes there (the documented
            # overshoot of one flush interval), then A learns the total too.
            assert a.hit("cred:1", LIMIT) is None
            await a.flush()
            assert a.hit("cred:1", LIMIT) is not None
            # Another credential is counted on its own.
            assert a.hit("cred:2", LIMIT) is None

    asyncio.run(scenario())


def test_counts_reach_redis_with_their_expiry(redis_prefix):
    async def scenario():
        prefix = unique(redis_prefix)
        async with replicas(prefix, 1) as (a,):
            a.hit("addr:203.0.113.9", LIMIT)
            a.hit("addr:203.0.113.9", LIMIT)
            await a.flush()
        reader = aioredis.from_url(REDIS_URL)
        keys = [k async for k in reader.scan_iter(match=f"{prefix}ratelimit:addr:203.0.113.9:*")]
        assert len(keys) == 1
        assert int(await reader.get(keys[0])) == 2
        assert 0 < await reader.ttl(keys[0]) <= 86401
        await reader.aclose()

    asyncio.run(scenario())


@contextlib.contextmanager
def private_redis(port: int):
    """A Redis of this test's own on ``port`` (so it can be stopped)."""
    process = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                                "--save", "", "--appendonly", "no"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield
    finally:
        process.terminate()
        process.wait(10)


def test_without_redis_each_replica_still_limits_and_catches_up_later(redis_prefix):
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"

    async def scenario():
        async with replicas(redis_prefix, 1, url=url) as (limiter,):
            with private_redis(port):
                assert limiter.hit("cred:9", LIMIT) is None
                await limiter.flush()
            # Redis stopped: this replica goes on counting and limiting on its own.
            assert [limiter.hit("cred:9", LIMIT) for _ in range(3)] == [None] * 3
            await limiter.flush()  # refused connection: logged, counts kept
            assert limiter.hit("cred:9", LIMIT) is not None
            with private_redis(port):  # back, empty: what was kept while away is sent
                await limiter.flush()
                reader = aioredis.from_url(url)
                keys = [k async for k in reader.scan_iter(match=f"{redis_prefix}ratelimit:cred:9:*")]
                assert [int(await reader.get(k)) for k in keys] == [4]
                await reader.aclose()

    asyncio.run(scenario())


def test_the_flusher_runs_in_the_background(redis_prefix):
    async def scenario():
        async with replicas(unique(redis_prefix), 2, flush_seconds=0.02) as (limiter, other):
            await limiter.start()
            await other.start()
            try:
                for _ in range(4):
                    assert limiter.hit("cred:7", LIMIT) is None
                other.hit("cred:7", LIMIT)  # its own count makes it flush, and learn the total
                for _ in range(100):
                    await asyncio.sleep(0.02)
                    if other.hit("cred:7", LIMIT) is not None:
                        break
                else:
                    pytest.fail("the other replica never learnt the shared count")
            finally:
                await limiter.stop()
                await other.stop()

    asyncio.run(scenario())
