"""An asyncio client for nameko's RPC protocol, over aio-pika.

The wire protocol (nameko 2.14, see docs/architecture.md):

* request: published to the durable topic exchange ``nameko-rpc`` with
  routing key ``{service}.{method}``, ``reply_to`` = the routing key of our
  reply queue, a ``correlation_id``, ``nameko.*`` headers (context data) and
  the JSON body ``{"args": [], "kwargs": {...}}``;
* reply: published by the service to ``nameko-rpc`` with our reply routing
  key: ``{"result": ..., "error": null | {"exc_type", "exc_path",
  "exc_args", "value"}}``.

Failing fast matters more than waiting: requests are published with
publisher confirms and ``mandatory``, so a request no queue can take comes
back at once (``ServiceUnavailable``); a service whose queue exists but has
no consumer (stopped) is detected with a passive queue declaration, checked
at most once per ``probe_interval``. Each request carries a TTL equal to the
timeout so the broker drops it rather than deliver it after we gave up. The
connection is robust: it reconnects by itself, and the reply queue, its
binding and consumer are restored.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from typing import Any, Callable

import aio_pika
import aiormq
from aio_pika import DeliveryMode, ExchangeType, Message
from aio_pika.abc import AbstractIncomingMessage

log = logging.getLogger(__name__)

RPC_EXCHANGE = "nameko-rpc"
RECONNECT_INTERVAL = 1.0  # seconds between reconnection attempts


class RpcError(Exception):
    """Base of what a call may raise."""


class RemoteError(RpcError):
    """The service answered with an error (nameko's serialised exception)."""

    def __init__(self, service: str, method: str, error: dict):
        self.service = service
        self.method = method
        self.exc_type = str(error.get("exc_type") or "")
        self.exc_path = str(error.get("exc_path") or "")
        self.exc_args = error.get("exc_args")
        self.value = error.get("value")
        super().__init__(f"{service}.{method}: {self.exc_type}")


class ServiceUnavailable(RpcError):
    """No one can take the request now: broker unreachable or service not running."""

    def __init__(self, service: str, reason: str):
        self.service = service
        self.reason = reason
        super().__init__(f"{service} unavailable: {reason}")


class ServiceTimeout(RpcError):
    """The request was taken but no reply came within the timeout."""

    def __init__(self, service: str, method: str, timeout: float):
        self.service = service
        self.method = method
        self.timeout = timeout
        super().__init__(f"{service}.{method}: no reply within {timeout:g} s")


Observer = Callable[[str, str, str, float], None]  # service, method, outcome, seconds


class RpcClient:
    """Calls ``service.method(**kwargs)`` and awaits the reply."""

    def __init__(
        self,
        amqp_uri: str,
        *,
        timeout: float = 10.0,
        probe_interval: float = 1.0,
        observer: Observer | None = None,
        name: str = "gateway",
    ):
        self._uri = amqp_uri
        self.timeout = timeout
        self._probe_interval = probe_interval
        self._observer = observer
        self._name = name
        self._connection: aio_pika.abc.AbstractRobustConnection | None = None
        self._channel: aio_pika.abc.AbstractChannel | None = None
        self._exchange: aio_pika.abc.AbstractExchange | None = None
        self._reply_key = f"rpc.reply-{name}-{uuid.uuid4()}"
        self._pending: dict[str, asyncio.Future] = {}
        self._probe_channel: aiormq.abc.AbstractChannel | None = None
        self._probe_lock = asyncio.Lock()
        self._alive_until: dict[str, float] = {}
        self.reconnections = 0

    # -- lifecycle ---------------------------------------------------------

    async def connect(self) -> None:
        self._connection = await aio_pika.connect_robust(
            self._uri, client_properties={"connection_name": f"escale-{self._name}-rpc"},
            reconnect_interval=RECONNECT_INTERVAL,
        )
        self._connection.reconnect_callbacks.add(self._on_reconnect)
        try:
            self._channel = await self._connection.channel(
                publisher_confirms=True, on_return_raises=True
            )
            exchange = await self._channel.declare_exchange(
                RPC_EXCHANGE, ExchangeType.TOPIC, durable=True
            )
            queue = await self._channel.declare_queue(
                self._reply_key, exclusive=True, auto_delete=True
            )
            await queue.bind(exchange, routing_key=self._reply_key)
            await queue.consume(self._on_reply, no_ack=True)
        except BaseException:
            # Half-open: close it, the caller retries from scratch.
            connection, self._connection = self._connection, None
            await connection.close()
            raise
        self._exchange = exchange

    async def close(self) -> None:
        for future in self._pending.values():
            if not future.done():
                future.set_exception(ServiceUnavailable("rpc", "gateway shutting down"))
        if self._connection is not None:
            await self._connection.close()
            self._connection = None

    @property
    def connected(self) -> bool:
        return (
            self._connection is not None
            and not self._connection.is_closed
            and self._connection.connected.is_set()
        )

    def _on_reconnect(self, *_args) -> None:
        self.reconnections += 1
        log.info("reconnected to the broker", extra={"reconnections": self.reconnections})
        self._alive_until.clear()
        self._probe_channel = None

    # -- calls ---------------------------------------------------------------

    async def call(self, service: str, method: str, *, context: dict | None = None,
                   timeout: float | None = None, **kwargs: Any) -> Any:
        """``service.method(**kwargs)``; raises RemoteError, ServiceUnavailable, ServiceTimeout."""
        timeout = self.timeout if timeout is None else timeout
        started = time.perf_counter()
        outcome = "error"
        try:
            result = await self._call(service, method, kwargs, context or {}, timeout)
            outcome = "ok"
            return result
        except RemoteError:
            outcome = "remote_error"
            raise
        except ServiceUnavailable:
            outcome = "unavailable"
            raise
        except ServiceTimeout:
            outcome = "timeout"
            raise
        finally:
            if self._observer is not None:
                self._observer(service, method, outcome, time.perf_counter() - started)

    async def _call(self, service, method, kwargs, context, timeout):
        if not self.connected or self._exchange is None:
            raise ServiceUnavailable(service, "message broker unreachable")
        await self._check_service(service)
        correlation_id = uuid.uuid4().hex
        headers = {f"nameko.{k}": v for k, v in context.items() if v is not None}
        headers["nameko.call_id_stack"] = [f"{self._name}.{method}.{correlation_id}"]
        message = Message(
            body=json.dumps({"args": [], "kwargs": kwargs}).encode("utf-8"),
            content_type="application/json",
            content_encoding="utf-8",
            correlation_id=correlation_id,
            reply_to=self._reply_key,
            headers=headers,
            delivery_mode=DeliveryMode.PERSISTENT,
            expiration=timeout,
        )
        future = asyncio.get_running_loop().create_future()
        self._pending[correlation_id] = future
        try:
            async with asyncio.timeout(timeout):
                try:
                    await self._exchange.publish(
                        message, routing_key=f"{service}.{method}", mandatory=True
                    )
                except aiormq.exceptions.PublishError as exc:
                    self._alive_until.pop(service, None)
                    raise ServiceUnavailable(service, "no queue takes its requests") from exc
                except (aiormq.exceptions.AMQPError, aio_pika.exceptions.ChannelInvalidStateError,
                        ConnectionError, RuntimeError) as exc:
                    reason = f"publish failed: {type(exc).__name__}"
                    raise ServiceUnavailable(service, reason) from exc
                reply = await future
        except TimeoutError:
            self._alive_until.pop(service, None)
            raise ServiceTimeout(service, method, timeout) from None
        finally:
            self._pending.pop(correlation_id, None)
        error = reply.get("error")
        if error:
            raise RemoteError(service, method, error if isinstance(error, dict) else {})
        return reply.get("result")

    async def _on_reply(self, message: AbstractIncomingMessage) -> None:
        future = self._pending.get(message.correlation_id or "")
        if future is None or future.done():
            return  # a late reply to a call that already timed out
        try:
            body = json.loads(message.body)
            if not isinstance(body, dict):
                raise ValueError("reply is not an object")
        except ValueError as exc:
            future.set_exception(RemoteError("?", "?", {"exc_type": "BadReply", "value": str(exc)}))
            return
        future.set_result(body)

    # -- is anyone listening? -----------------------------------------------

    async def _check_service(self, service: str) -> None:
        """Raise ServiceUnavailable if ``rpc-{service}`` has no consumer.

        A stopped nameko service leaves its durable queue behind: requests
        would wait there until they expire. A passive declaration tells the
        consumer count; a positive answer is trusted for ``probe_interval``.
        """
        if self._alive_until.get(service, 0.0) > time.monotonic():
            return
        async with self._probe_lock:
            if self._alive_until.get(service, 0.0) > time.monotonic():
                return
            consumers = await self._consumer_count(f"rpc-{service}")
            if consumers == 0:
                raise ServiceUnavailable(service, "service not running")
            # None: the queue does not exist; the mandatory publish decides.
            if consumers:
                self._alive_until[service] = time.monotonic() + self._probe_interval

    async def _consumer_count(self, queue: str) -> int | None:
        # A plain aiormq channel on the current transport, not a robust one:
        # the broker closes the channel when the queue does not exist, and a
        # robust channel would be reopened and tracked for nothing.
        try:
            if self._probe_channel is None or self._probe_channel.is_closed:
                transport = self._connection.transport
                if transport is None:
                    raise ConnectionError("no transport")
                self._probe_channel = await transport.connection.channel()
            ok = await self._probe_channel.queue_declare(queue, passive=True)
            return ok.consumer_count
        except aiormq.exceptions.ChannelNotFoundEntity:
            self._probe_channel = None
            return None
        except (aiormq.exceptions.AMQPError, aio_pika.exceptions.ChannelInvalidStateError,
                ConnectionError, RuntimeError) as exc:
            self._probe_channel = None
            reason = f"probe failed: {type(exc).__name__}"
            raise ServiceUnavailable(queue.removeprefix("rpc-"), reason) from exc
