"""The nameko RPC client as a caller notices it: fast 503s, clear 504s, reconnection."""

from __future__ import annotations

import asyncio
import time

import pytest

from gateway import app as app_module
from gateway.app import create_app
from gateway.keys import RPC_KEY
from gateway.rpc import RpcClient, ServiceUnavailable
from gateway.settings import Settings

from tests.support.servers import free_port

pytestmark = pytest.mark.integration


async def test_stopped_service_answers_503_at_once(client, tokens, booking, settings):
    await booking.pause()  # the queue stays, nobody consumes it: a stopped nameko service
    started = time.perf_counter()
    r = await client.get("/api/v1/people?q=dur", headers=tokens.auth("agent"))
    elapsed = time.perf_counter() - started
    assert r.status == 503
    body = await r.json()
    assert body["error"] == "service_unavailable" and "booking" in body["message"]
    assert r.headers["Retry-After"] == "1"
    assert elapsed < settings.rpc_timeout / 3
    await booking.resume()
    r = await client.get("/api/v1/people?q=dur", headers=tokens.auth("agent"))
    assert r.status == 200


async def test_service_without_queue_fails_at_once(amqp_uri):
    rpc = RpcClient(amqp_uri, timeout=5.0)
    await rpc.connect()
    try:
        started = time.perf_counter()
        with pytest.raises(ServiceUnavailable):
            await rpc.call("presence", "where_is", person_id="x")
        assert time.perf_counter() - started < 0.5
    finally:
        await rpc.close()


async def test_slow_service_gives_504_after_the_timeout(aiohttp_client, settings, tokens, booking):
    client = await aiohttp_client(create_app(Settings(
        amqp_uri=settings.amqp_uri, database_url=settings.database_url, rpc_timeout=0.5)))
    await client.get("/api/v1/sites", headers=tokens.auth("agent"))  # warm up (person lookup)
    booking.delay = 1.5
    started = time.perf_counter()
    r = await client.get("/api/v1/people?q=dur", headers=tokens.auth("agent",
                                                                      **{"Accept-Language": "en"}))
    elapsed = time.perf_counter() - started
    assert r.status == 504
    body = await r.json()
    assert body["error"] == "service_timeout"
    assert "did not answer in time (0.5 s)" in body["message"]
    assert 0.4 < elapsed < 1.4
    await asyncio.sleep(1.2)  # let the late reply arrive: it must be ignored quietly
    booking.delay = 0
    r = await client.get("/api/v1/people?q=dur", headers=tokens.auth("agent"))
    assert r.status == 200


async def test_broker_down_at_start(aiohttp_client, gateway_db_url, tokens, monkeypatch):
    monkeypatch.setattr(app_module, "STARTUP_WAIT", 0.2)
    closed = f"amqp://guest:guest@127.0.0.1:{free_port()}/"
    client = await aiohttp_client(create_app(Settings(amqp_uri=closed,
                                                      database_url=gateway_db_url)))
    assert (await client.get("/healthz")).status == 200
    r = await client.get("/readyz")
    assert r.status == 503
    assert (await r.json())["checks"]["amqp"] is False
    started = time.perf_counter()
    r = await client.get("/api/v1/bookings?mine=1", headers=tokens.auth("agent"))
    assert r.status == 503
    assert time.perf_counter() - started < 1.0


async def test_database_down(aiohttp_client, amqp_uri, tokens, booking):
    closed = f"postgresql://postgres@127.0.0.1:{free_port()}/escale_gateway"
    client = await aiohttp_client(create_app(Settings(amqp_uri=amqp_uri, database_url=closed)))
    r = await client.get("/readyz")
    assert r.status == 503
    assert (await r.json())["checks"] == {"amqp": True, "database": False,
                                          "catalog_events": True}
    started = time.perf_counter()
    r = await client.get("/api/v1/sites", headers=tokens.auth("agent"))
    assert r.status == 503
    assert (await r.json())["error"] == "service_unavailable"
    assert time.perf_counter() - started < 5


async def test_reconnects_by_itself(client, tokens, booking, gateway_vhost):
    agent = tokens.auth("agent")
    assert (await client.get("/api/v1/people?q=a", headers=agent)).status == 200
    closer = await asyncio.create_subprocess_exec(
        "rabbitmqctl", "-q", "close_all_connections", "--vhost", gateway_vhost,
        "--limit", "50", "reconnection test",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    assert await asyncio.wait_for(closer.wait(), 60) == 0
    deadline = time.monotonic() + 20
    statuses = []
    while time.monotonic() < deadline:
        r = await client.get("/api/v1/people?q=a", headers=agent)
        statuses.append(r.status)
        ready = (await client.get("/readyz")).status
        if r.status == 200 and ready == 200 and client.app[RPC_KEY].reconnections:
            break
        assert r.status in (200, 503), await r.text()
        await asyncio.sleep(0.2)
    assert statuses[-1] == 200, statuses
    assert client.app[RPC_KEY].reconnections >= 1
    assert (await client.get("/readyz")).status == 200
