"""Hot catalogue reads cost no RPC, and a resource.changed event refreshes them."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import aio_pika
import pytest

from gateway.keys import CATALOG_KEY

pytestmark = pytest.mark.integration


async def publish_resource_changed(amqp_uri, entity_id):
    """What the booking outbox relay publishes (nameko's event format: JSON body)."""
    connection = await aio_pika.connect(amqp_uri)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.declare_exchange("booking.events", aio_pika.ExchangeType.TOPIC,
                                                  durable=True)
        event = {"v": 1, "event_id": str(uuid.uuid4()), "type": "resource.changed",
                 "occurred_at": "2026-03-01T10:00:00+00:00", "change": "updated",
                 "entity": "resource", "id": entity_id, "data": None}
        await exchange.publish(
            aio_pika.Message(json.dumps(event).encode(), content_type="application/json",
                             delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
            routing_key="resource.changed",
        )


async def test_second_read_is_served_without_rpc(client, tokens, booking):
    agent = tokens.auth("agent")
    for _ in range(3):
        r = await client.get(f"/api/v1/resources?floor_id={booking.FLOOR_ID}", headers=agent)
        assert r.status == 200
        assert (await r.json())[0]["name"] == "Bureau CCAS 01"
        assert (await client.get("/api/v1/sites", headers=agent)).status == 200
        assert (await client.get(f"/api/v1/sites/{booking.SITE_ID}", headers=agent)).status == 200
        r = await client.get(f"/api/v1/resources/{booking.DESK_ID}", headers=agent)
        assert r.status == 200
    assert len(booking.calls_to("list_resources")) == 1
    assert len(booking.calls_to("list_sites")) == 1
    assert len(booking.calls_to("site_tree")) == 1
    assert len(booking.calls_to("get_resource")) == 1
    # other filters are other entries
    await client.get(f"/api/v1/resources?floor_id={booking.FLOOR_ID}&kind=room", headers=agent)
    assert len(booking.calls_to("list_resources")) == 2
    metrics = await (await client.get("/metrics")).text()
    assert 'escale_gateway_catalog_cache_total{method="list_resources",result="hit"} 2.0' in metrics


async def test_errors_are_not_cached(client, tokens, booking):
    agent = tokens.auth("agent")
    for _ in range(2):
        r = await client.get(f"/api/v1/sites/{booking.OTHER_SITE_ID}", headers=agent)
        assert r.status == 404
    assert len(booking.calls_to("site_tree")) == 2


async def test_resource_changed_event_refreshes_the_cache(client, tokens, booking, amqp_uri):
    agent = tokens.auth("agent")
    url = f"/api/v1/resources?floor_id={booking.FLOOR_ID}"
    assert (await (await client.get(url, headers=agent)).json())[0]["name"] == "Bureau CCAS 01"
    renamed = {**booking.DESK, "name": "Bureau CCAS 01 (écran 34 pouces)"}
    booking.handlers["list_resources"] = lambda **kw: [renamed]
    # until an event says so, the cached answer stands
    assert (await (await client.get(url, headers=agent)).json())[0]["name"] == "Bureau CCAS 01"

    await publish_resource_changed(amqp_uri, booking.DESK_ID)
    deadline = time.monotonic() + 5
    name = None
    while time.monotonic() < deadline:
        name = (await (await client.get(url, headers=agent)).json())[0]["name"]
        if name == renamed["name"]:
            break
        await asyncio.sleep(0.05)
    assert name == renamed["name"]
    assert len(booking.calls_to("list_resources")) == 2


async def test_own_writes_are_visible_at_once(client, tokens, booking):
    url = f"/api/v1/resources/{booking.DESK_ID}"
    assert (await client.get(url, headers=tokens.auth("agent"))).status == 200
    renamed = {**booking.DESK, "name": "Bureau 1 bis"}
    booking.handlers["update_entity"] = lambda actor, entity, entity_id, data: renamed
    booking.handlers["get_resource"] = lambda resource_id: renamed
    r = await client.patch(url, json={"name": "Bureau 1 bis"}, headers=tokens.auth("admin"))
    assert r.status == 200
    assert (await (await client.get(url, headers=tokens.auth("agent"))).json())["name"] == \
        "Bureau 1 bis"


async def test_concurrent_misses_share_one_rpc(client, tokens, booking):
    booking.delay = 0.2
    agent = tokens.auth("agent")
    await client.get("/api/v1/me", headers=agent)
    responses = await asyncio.gather(*[client.get("/api/v1/sites", headers=agent)
                                       for _ in range(10)])
    assert all(r.status == 200 for r in responses)
    assert len(booking.calls_to("list_sites")) == 1


async def test_cache_is_bypassed_when_events_cannot_arrive(client, tokens, booking):
    cache = client.app[CATALOG_KEY]
    agent = tokens.auth("agent")
    await client.get("/api/v1/sites", headers=agent)
    cache._on_connection_lost()  # what the robust connection reports when the broker goes
    assert len(cache) == 0 and not cache.live
    await client.get("/api/v1/sites", headers=agent)
    await client.get("/api/v1/sites", headers=agent)
    assert len(booking.calls_to("list_sites")) == 3
    cache._on_reconnected()
    await client.get("/api/v1/sites", headers=agent)
    await client.get("/api/v1/sites", headers=agent)
    assert len(booking.calls_to("list_sites")) == 4
