"""The gateway's live hub: events pushed to browsers and tablets over WebSocket.

One endpoint, ``GET /api/v1/live`` (WebSocket upgrade). A client
authenticates with its bearer token (``Authorization`` header, or
``?token=`` since browsers cannot set headers on a WebSocket; the access
log never records query strings), from an allowed ``Origin``, then
subscribes to *topics*::

    -> {"op": "subscribe", "topics": ["site:<id>", "person:<id>"]}
    <- {"type": "subscribed", "topics": [...], "refused": [...]}
    <- {"type": "presence.changed", "topic": "site:<id>", ...}      (events)
    -> {"op": "unsubscribe", "topics": [...]}   -> {"op": "ping"}  <- {"type": "pong"}

Topics are ``kind:<uuid>`` with kind in ``person``, ``team``, ``site``,
``floor``, ``resource``. The hub is generic: it knows nothing of presence or
bookings. *Sources* (an exchange, routing keys, a translator) turn each
AMQP event into deliveries: the topics it concerns, the message, who may
see it, and an optional per-viewer variant. Each gateway process consumes
its sources through one exclusive, auto-delete queue of its own, so every
process sees every event and pushes it to its own clients.

A slow client cannot stall the others: each connection has a bounded
queue; fan-out only enqueues (``put_nowait``), a sender task per connection
drains it, and a connection whose queue is full is closed with 1013 ("try
again later": reconnect and reload). Tokens are checked again every minute
(a revoked token's socket is closed with 4401). On shutdown every socket
gets a clean close (1001).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import uuid
from dataclasses import dataclass
from typing import Awaitable, Callable, Iterable
from urllib.parse import urlsplit

import aio_pika
from aio_pika import ExchangeType
from aio_pika.abc import AbstractIncomingMessage
from aiohttp import WSMsgType, web
from prometheus_client import CollectorRegistry, Counter, Gauge

from .errors import ApiError
from .rpc import RECONNECT_INTERVAL

log = logging.getLogger(__name__)

TOPIC = re.compile(r"^(person|team|site|floor|resource):[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
MAX_TOPICS = 100
MAX_MESSAGE = 16 * 1024
RECHECK_SECONDS = 60.0

CLOSE_GOING_AWAY = 1001
CLOSE_POLICY = 1008
CLOSE_TRY_AGAIN = 1013
CLOSE_UNAUTHORIZED = 4401


@dataclass(frozen=True)
class Viewer:
    """Who is on the other end of a socket, as the visibility rules need it."""

    person_id: str | None
    role: str
    team_ids: frozenset[str] = frozenset()
    site_ids: frozenset[str] = frozenset()
    room_id: str | None = None


@dataclass(frozen=True)
class Delivery:
    topics: frozenset[str]
    message: dict
    visible_to: Callable[[Viewer], bool] = lambda viewer: True
    variant: Callable[[Viewer], dict] | None = None  # a per-viewer message (e.g. owner sees more)


Translator = Callable[[str, dict], Iterable[Delivery]]


@dataclass(frozen=True)
class Source:
    exchange: str
    routing_keys: tuple[str, ...]
    translate: Translator


Authenticate = Callable[[web.Request, str], Awaitable[Viewer]]   # raises ApiError
Recheck = Callable[[str], Awaitable[Viewer | None]]             # None: token no longer valid
TopicPolicy = Callable[[Viewer, str], bool]


class Connection:
    def __init__(self, ws: web.WebSocketResponse, viewer: Viewer, queue_size: int):
        self.ws = ws
        self.viewer = viewer
        self.queue: asyncio.Queue[str] = asyncio.Queue(maxsize=queue_size)
        self.topics: set[str] = set()
        self.closing = False


class LiveHub:
    def __init__(self, amqp_uri: str, sources: list[Source], *, authenticate: Authenticate,
                 recheck: Recheck, allow_topic: TopicPolicy, allowed_origins: Iterable[str] = (),
                 queue_size: int = 256, registry: CollectorRegistry | None = None):
        self._uri = amqp_uri
        self._sources = sources
        self._authenticate = authenticate
        self._recheck = recheck
        self._allow_topic = allow_topic
        self._origins = {o.rstrip("/").lower() for o in allowed_origins}
        self._queue_size = queue_size
        self._by_topic: dict[str, set[Connection]] = {}
        self._connections: set[Connection] = set()
        self._amqp: aio_pika.abc.AbstractRobustConnection | None = None
        self.queue_name = f"gateway-live-{uuid.uuid4()}"
        self.live = False
        # Told True when events flow, False when some may be missed (caches fed
        # by the sources use it to bypass themselves).
        self.state_listeners: list[Callable[[bool], None]] = []
        registry = registry or CollectorRegistry()
        self.m_connections = Gauge("escale_gateway_live_connections", "Open live WebSockets",
                                   registry=registry)
        self.m_sent = Counter("escale_gateway_live_messages_total", "Live messages queued to clients",
                              registry=registry)
        self.m_dropped = Counter("escale_gateway_live_slow_closed_total",
                                 "Live connections closed because they fell behind", registry=registry)

    # -- the AMQP side -------------------------------------------------------------------
    async def start(self) -> None:
        self._amqp = await aio_pika.connect_robust(
            self._uri, client_properties={"connection_name": "escale-gateway-live"},
            reconnect_interval=RECONNECT_INTERVAL)
        self._amqp.close_callbacks.add(lambda *_: self._set_live(False))
        self._amqp.reconnect_callbacks.add(lambda *_: self._set_live(True))
        try:
            channel = await self._amqp.channel()
            await channel.set_qos(prefetch_count=256)
            queue = await channel.declare_queue(self.queue_name, exclusive=True, auto_delete=True)
            for source in self._sources:
                exchange = await channel.declare_exchange(source.exchange, ExchangeType.TOPIC, durable=True)
                for key in source.routing_keys:
                    await queue.bind(exchange, routing_key=key)
            await queue.consume(self._on_message)
        except BaseException:
            connection, self._amqp = self._amqp, None
            await connection.close()
            raise
        self._set_live(True)

    def _set_live(self, live: bool) -> None:
        if live != self.live:
            log.log(logging.INFO if live else logging.WARNING,
                    "live events flowing" if live else "live events lost until reconnection")
        self.live = live
        for listener in self.state_listeners:
            listener(live)

    async def stop(self) -> None:
        self._set_live(False)
        await self.close_all()
        if self._amqp is not None:
            await self._amqp.close()
            self._amqp = None

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        async with message.process():
            try:
                payload = json.loads(message.body)
            except ValueError:
                log.warning("live: undecodable event dropped", extra={"routing_key": message.routing_key})
                return
            if isinstance(payload, dict):
                self.publish(message.exchange, message.routing_key or "", payload)

    def publish(self, exchange: str, routing_key: str, payload: dict) -> int:
        """Fan an event out to the connections that subscribed and may see it."""
        queued = 0
        for source in self._sources:
            if source.exchange != exchange:
                continue
            try:
                deliveries = list(source.translate(routing_key, payload))
            except Exception:  # a bad event must not stop the hub
                log.exception("live: translation failed", extra={"routing_key": routing_key})
                continue
            for delivery in deliveries:
                queued += self._deliver(delivery)
        return queued

    def _deliver(self, delivery: Delivery) -> int:
        targets: dict[Connection, str] = {}
        for topic in delivery.topics:
            for conn in self._by_topic.get(topic, ()):
                targets.setdefault(conn, topic)
        queued = 0
        texts: dict[str, str] = {}  # the same message is encoded once per topic
        for conn, topic in targets.items():
            if conn.closing or not delivery.visible_to(conn.viewer):
                continue
            if delivery.variant is not None:
                text = json.dumps({**delivery.variant(conn.viewer), "topic": topic}, ensure_ascii=False)
            else:
                text = texts.get(topic)
                if text is None:
                    text = texts[topic] = json.dumps({**delivery.message, "topic": topic}, ensure_ascii=False)
            self._offer(conn, text)
            queued += 1
        return queued

    def _offer(self, conn: Connection, text: str) -> None:
        try:
            conn.queue.put_nowait(text)
            self.m_sent.inc()
        except asyncio.QueueFull:
            self.m_dropped.inc()
            log.warning("live: client too slow, closing", extra={"role": conn.viewer.role})
            self._close_soon(conn, CLOSE_TRY_AGAIN, "too slow")

    def _close_soon(self, conn: Connection, code: int, reason: str) -> None:
        if conn.closing:
            return
        conn.closing = True
        self._forget(conn)
        asyncio.get_running_loop().create_task(conn.ws.close(code=code, message=reason.encode()))

    def _forget(self, conn: Connection) -> None:
        for topic in conn.topics:
            subscribers = self._by_topic.get(topic)
            if subscribers is not None:
                subscribers.discard(conn)
                if not subscribers:
                    del self._by_topic[topic]
        conn.topics.clear()
        if conn in self._connections:
            self._connections.discard(conn)
            self.m_connections.set(len(self._connections))

    async def close_all(self) -> None:
        connections = list(self._connections)
        for conn in connections:
            conn.closing = True
            self._forget(conn)
        await asyncio.gather(*(c.ws.close(code=CLOSE_GOING_AWAY, message=b"server shutdown")
                               for c in connections), return_exceptions=True)

    def __len__(self) -> int:
        return len(self._connections)

    # -- the WebSocket side ------------------------------------------------------------------
    def origin_allowed(self, request: web.Request) -> bool:
        origin = request.headers.get("Origin")
        if origin is None:
            return True  # not a browser (tablet app, script): the token is the proof
        origin = origin.rstrip("/").lower()
        if origin in self._origins:
            return True
        return urlsplit(origin).netloc == (request.host or "").lower()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if not self.origin_allowed(request):
            raise ApiError("forbidden", "live_origin")
        token = _token_of(request)
        viewer = await self._authenticate(request, token)
        ws = web.WebSocketResponse(heartbeat=30, max_msg_size=MAX_MESSAGE)
        await ws.prepare(request)
        conn = Connection(ws, viewer, self._queue_size)
        self._connections.add(conn)
        self.m_connections.set(len(self._connections))
        sender = asyncio.create_task(self._send_loop(conn))
        checker = asyncio.create_task(self._recheck_loop(conn, token))
        try:
            await ws.send_str(json.dumps({"type": "welcome", "topics": []}))
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                await self._command(conn, msg.data)
        finally:
            self._forget(conn)
            sender.cancel()
            checker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender
            with contextlib.suppress(asyncio.CancelledError):
                await checker
        return ws

    async def _command(self, conn: Connection, data: str) -> None:
        try:
            command = json.loads(data)
            op = command.get("op")
        except (ValueError, AttributeError):
            return self._reply(conn, {"type": "error", "error": "invalid_json"})
        if op == "ping":
            return self._reply(conn, {"type": "pong"})
        topics = command.get("topics")
        if op not in ("subscribe", "unsubscribe") or not isinstance(topics, list) \
                or not all(isinstance(t, str) for t in topics):
            return self._reply(conn, {"type": "error", "error": "invalid_command"})
        if op == "unsubscribe":
            for topic in topics:
                if topic in conn.topics:
                    conn.topics.discard(topic)
                    self._by_topic.get(topic, set()).discard(conn)
            return self._reply(conn, {"type": "unsubscribed", "topics": sorted(conn.topics)})
        accepted, refused = [], []
        for topic in topics:
            topic = topic.lower()
            if TOPIC.match(topic) and self._allow_topic(conn.viewer, topic) \
                    and (topic in conn.topics or len(conn.topics) < MAX_TOPICS):
                conn.topics.add(topic)
                self._by_topic.setdefault(topic, set()).add(conn)
                accepted.append(topic)
            else:
                refused.append(topic)
        self._reply(conn, {"type": "subscribed", "topics": sorted(conn.topics), "refused": refused})

    def _reply(self, conn: Connection, message: dict) -> None:
        self._offer(conn, json.dumps(message))

    async def _send_loop(self, conn: Connection) -> None:
        while True:
            text = await conn.queue.get()
            try:
                await conn.ws.send_str(text)
            except (ConnectionError, RuntimeError):
                return

    async def _recheck_loop(self, conn: Connection, token: str) -> None:
        while True:
            await asyncio.sleep(RECHECK_SECONDS)
            try:
                viewer = await self._recheck(token)
            except Exception:  # the token store is down: keep the socket, try later
                continue
            if viewer is None:
                self._close_soon(conn, CLOSE_UNAUTHORIZED, "token no longer valid")
                return
            conn.viewer = viewer


def _token_of(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    # A browser signed in to the web app: its session cookie (the Origin check above
    # keeps other sites' pages from riding on it).
    return request.query.get("token", "") or request.cookies.get("escale_session", "")


