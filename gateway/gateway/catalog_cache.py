"""In-memory cache of the catalogue reads, invalidated by ``resource.changed``.

Sites, buildings, floors, zones and resources change rarely but are read on
every page and by every bot question, so the gateway keeps the booking
service's answers to ``list_sites``, ``site_tree``, ``list_resources`` and
``get_resource`` in memory: a hot read costs no RPC.

Correctness comes from events, not from a short TTL: each gateway process
consumes ``resource.changed`` from the ``booking.events`` topic exchange
through an exclusive, auto-delete queue of its own, and drops the whole cache
on each event (changes are rare; precise invalidation is not worth the
risk). Safety nets:

* while the event consumer is down (broker lost), the cache is bypassed and
  emptied, since events may be missed; on reconnection it starts empty;
* an answer computed while an invalidation happened is not stored
  (generation counter);
* the gateway's own catalogue writes invalidate at once (read-your-writes);
* entries still expire after ``ttl`` seconds, and the cache is bounded.

Concurrent misses of one key share a single RPC.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections import OrderedDict
from typing import Any, Callable

import aio_pika
from aio_pika import ExchangeType
from aio_pika.abc import AbstractIncomingMessage

from .rpc import RECONNECT_INTERVAL, RpcClient

log = logging.getLogger(__name__)

EVENTS_EXCHANGE = "booking.events"
ROUTING_KEY = "resource.changed"
CACHED_METHODS = frozenset({"list_sites", "site_tree", "list_resources", "get_resource"})

Counter = Callable[[str, str], None]  # (method, "hit"|"miss"|"bypass")


class CatalogCache:
    def __init__(
        self,
        rpc: RpcClient,
        amqp_uri: str,
        *,
        ttl: float = 300.0,
        max_entries: int = 4096,
        on_lookup: Counter | None = None,
        on_invalidate: Callable[[str], None] | None = None,
    ):
        self._rpc = rpc
        self._uri = amqp_uri
        self._ttl = ttl
        self._max = max_entries
        self._on_lookup = on_lookup
        self._on_invalidate = on_invalidate
        self._entries: OrderedDict[tuple, tuple[float, Any]] = OrderedDict()
        self._inflight: dict[tuple, asyncio.Future] = {}
        self._generation = 0
        self._live = False
        self._connection: aio_pika.abc.AbstractRobustConnection | None = None
        self.queue_name = f"gateway-catalog-{uuid.uuid4()}"

    # -- lifecycle ---------------------------------------------------------

    async def start(self) -> None:
        self._connection = await aio_pika.connect_robust(
            self._uri, client_properties={"connection_name": "escale-gateway-catalog"},
            reconnect_interval=RECONNECT_INTERVAL,
        )
        self._connection.close_callbacks.add(self._on_connection_lost)
        self._connection.reconnect_callbacks.add(self._on_reconnected)
        try:
            channel = await self._connection.channel()
            exchange = await channel.declare_exchange(EVENTS_EXCHANGE, ExchangeType.TOPIC,
                                                      durable=True)
            queue = await channel.declare_queue(self.queue_name, exclusive=True, auto_delete=True)
            await queue.bind(exchange, routing_key=ROUTING_KEY)
            await queue.consume(self._on_event)
        except BaseException:
            connection, self._connection = self._connection, None
            await connection.close()
            raise
        self._live = True

    async def stop(self) -> None:
        self._live = False
        self.invalidate("stop")
        if self._connection is not None:
            await self._connection.close()
            self._connection = None

    @property
    def live(self) -> bool:
        return self._live

    def _on_connection_lost(self, *_args) -> None:
        if self._live:
            log.warning("catalogue events lost; cache bypassed until reconnection")
        self._live = False
        self.invalidate("connection_lost")

    def _on_reconnected(self, *_args) -> None:
        self.invalidate("reconnected")
        self._live = True

    async def _on_event(self, message: AbstractIncomingMessage) -> None:
        async with message.process():
            try:
                event = json.loads(message.body)
                detail = {"event_id": event.get("event_id"), "entity": event.get("entity"),
                          "change": event.get("change"), "id": event.get("id")}
            except (ValueError, AttributeError):
                detail = {}
            log.info("resource changed; catalogue cache dropped", extra=detail)
            self.invalidate("event")

    # -- cache -------------------------------------------------------------

    def invalidate(self, reason: str = "write") -> None:
        self._generation += 1
        self._entries.clear()
        self._inflight.clear()
        if self._on_invalidate is not None:
            self._on_invalidate(reason)

    def __len__(self) -> int:
        return len(self._entries)

    async def call(self, method: str, **kwargs: Any) -> Any:
        """``booking.<method>(**kwargs)``, from memory when possible."""
        if method not in CACHED_METHODS:
            raise ValueError(f"{method} is not a cached catalogue read")
        if not self._live:
            self._count(method, "bypass")
            return await self._rpc.call("booking", method, **kwargs)
        key = (method, tuple(sorted(kwargs.items())))
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry is not None and entry[0] > now:
            self._entries.move_to_end(key)
            self._count(method, "hit")
            return entry[1]
        self._count(method, "miss")
        shared = self._inflight.get(key)
        if shared is not None:
            return await asyncio.shield(shared)
        future = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        generation = self._generation
        try:
            result = await self._rpc.call("booking", method, **kwargs)
        except BaseException as exc:
            if not future.done():
                if isinstance(exc, asyncio.CancelledError):
                    future.cancel()
                else:
                    future.set_exception(exc)
                    future.exception()  # mark retrieved: no warning when nobody waits
            raise
        finally:
            if self._inflight.get(key) is future:
                del self._inflight[key]
        if not future.done():
            future.set_result(result)
        if generation == self._generation and self._live:
            self._entries[key] = (time.monotonic() + self._ttl, result)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
        return result

    def _count(self, method: str, result: str) -> None:
        if self._on_lookup is not None:
            self._on_lookup(method, result)
