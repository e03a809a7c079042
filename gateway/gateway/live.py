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

Fan-out encodes each distinct message once (JSON, then the WebSocket
frame) and, for a connection with nothing queued and a transport that keeps
up, writes that frame to the socket's transport at once, in the same loop
turn: no task wake-up, no coroutine, no await per client (aiohttp's
``send_str`` is a coroutine per socket, which at 1,000 tablets costs more
than the event itself). Anything else goes through the connection's bounded
queue, drained by a sender task per connection, so a slow client cannot
stall the others: a connection whose queue is full is closed with 1013
("try again later": reconnect and reload). Tokens are checked again every
minute, and at once when the token store reports a change of that token
(its PostgreSQL NOTIFY), so a revoked tablet's socket is closed with 4401
within moments. On shutdown every socket gets a clean close (1001).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import struct
import time
import uuid
from dataclasses import dataclass
from typing import Awaitable, Callable, Iterable
from urllib.parse import urlsplit

import aio_pika
from aio_pika import ExchangeType
from aio_pika.abc import AbstractIncomingMessage
from aiohttp import WSMsgType, web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

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
# A transport holding more than this unsent is behind: its messages queue
# (bounded) instead of piling up in the kernel-side buffer.
DIRECT_WRITE_LIMIT = 64 * 1024


@dataclass(frozen=True)
class Viewer:
    """Who is on the other end of a socket, as the visibility rules need it."""

    person_id: str | None
    role: str
    team_ids: frozenset[str] = frozenset()
    site_ids: frozenset[str] = frozenset()
    room_id: str | None = None
    token_id: str | None = None   # the credential's id: its revocation closes the socket at once


@dataclass(frozen=True)
class Delivery:
    topics: frozenset[str]
    message: dict
    visible_to: Callable[[Viewer], bool] = lambda viewer: True
    # A per-viewer message (e.g. the owner sees more). It should return one of a
    # few dict objects: each distinct object is encoded once per topic.
    variant: Callable[[Viewer], dict] | None = None


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
    def __init__(self, ws: web.WebSocketResponse, viewer: Viewer, queue_size: int,
                 transport: asyncio.Transport | None = None):
        self.ws = ws
        self.viewer = viewer
        self.queue: asyncio.Queue[str] = asyncio.Queue(maxsize=queue_size)
        self.topics: set[str] = set()
        self.closing = False
        self.recheck_now = asyncio.Event()
        # Set when frames may be written straight to the transport (no
        # per-message compression negotiated); None: always through the queue.
        self.transport = transport

    def write_now(self, frame: bytes) -> bool:
        """Write a whole frame at once if nothing is queued before it and the
        transport keeps up; False if the message must go through the queue.

        Order is kept: the sender task takes a message off the queue and
        writes it in the same step, so an empty queue means nothing is
        waiting to be written."""
        transport = self.transport
        if transport is None or not self.queue.empty() or self.ws.closed or transport.is_closing() \
                or transport.get_write_buffer_size() > DIRECT_WRITE_LIMIT:
            return False
        transport.write(frame)
        return True


def text_frame(text: str) -> bytes:
    """A final, unmasked, uncompressed WebSocket text frame (RFC 6455 5.2), as
    a server sends it: built once, written to every socket."""
    payload = text.encode("utf-8")
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", 0x81, length)
    elif length < 65536:
        header = struct.pack("!BBH", 0x81, 126, length)
    else:
        header = struct.pack("!BBQ", 0x81, 127, length)
    return header + payload


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
        self.m_fanout = Histogram("escale_gateway_live_fanout_seconds",
                                  "One event: from its arrival to every subscriber's frame written or queued",
                                  buckets=(.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1),
                                  registry=registry)

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
            started = time.perf_counter()
            try:
                payload = json.loads(message.body)
            except ValueError:
                log.warning("live: undecodable event dropped", extra={"routing_key": message.routing_key})
                return
            if isinstance(payload, dict) and self.publish(message.exchange, message.routing_key or "", payload):
                self.m_fanout.observe(time.perf_counter() - started)

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
        # Each distinct message is encoded once per topic: JSON text and frame.
        encoded: dict[tuple[int, str], tuple[str, bytes]] = {}
        for conn, topic in targets.items():
            if conn.closing or not delivery.visible_to(conn.viewer):
                continue
            message = delivery.message if delivery.variant is None else delivery.variant(conn.viewer)
            key = (id(message), topic)
            pair = encoded.get(key)
            if pair is None:
                text = json.dumps({**message, "topic": topic}, ensure_ascii=False)
                pair = encoded[key] = (text, text_frame(text))
            queued += self._offer(conn, pair[0], pair[1])
        if queued:
            self.m_sent.inc(queued)  # once per event, not once per socket
        return queued

    def _offer(self, conn: Connection, text: str, frame: bytes | None = None) -> bool:
        """Send or queue one message; False if the client fell behind (closed)."""
        if frame is not None and conn.write_now(frame):
            return True
        try:
            conn.queue.put_nowait(text)
            return True
        except asyncio.QueueFull:
            self.m_dropped.inc()
            log.warning("live: client too slow, closing", extra={"role": conn.viewer.role})
            self._close_soon(conn, CLOSE_TRY_AGAIN, "too slow")
            return False

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

    def token_changed(self, token_id: str) -> None:
        """The token store says a credential was revoked or changed: check
        its sockets now rather than at their next periodic check."""
        for conn in self._connections:
            if conn.viewer.token_id == token_id:
                conn.recheck_now.set()

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
        # No permessage-deflate: messages are small, and compressing the same one
        # for each of 1,000 sockets (each has its own deflate state) would cost
        # more than sending it; uncompressed, one frame serves every socket.
        ws = web.WebSocketResponse(heartbeat=30, max_msg_size=MAX_MESSAGE, compress=False)
        await ws.prepare(request)
        conn = Connection(ws, viewer, self._queue_size,
                          transport=None if ws.compress else request.transport)
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
        if self._offer(conn, json.dumps(message)):
            self.m_sent.inc()

    async def _send_loop(self, conn: Connection) -> None:
        while True:
            text = await conn.queue.get()
            try:
                await conn.ws.send_str(text)
            except (ConnectionError, RuntimeError):
                return

    async def _recheck_loop(self, conn: Connection, token: str) -> None:
        while True:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(conn.recheck_now.wait(), RECHECK_SECONDS)
            conn.recheck_now.clear()
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


