"""Outbox relay: publish pending outbox rows to RabbitMQ, then stamp them.

Each service keeps an ``outbox`` table (``id, event_id, event_type, payload,
published_at``) and binds this relay to its own exchange by subclassing it
with ``exchange_name``.

Rows are claimed with ``FOR UPDATE SKIP LOCKED`` so several processes
can relay side by side without publishing the same row in the same round.
Publishing uses publisher confirms: a row is stamped only after the broker
confirmed it, and only in the transaction that claimed it. Messages are
nameko events (JSON body on the service's topic exchange, routing key = event
type), so nameko ``event_handler``s and aio-pika consumers read them. If the broker is
unreachable, the transaction rolls back and the rows wait for the next round,
so a change committed while RabbitMQ is down still has its event published
once the broker is back.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time

import amqp
from kombu import Connection, Exchange

log = logging.getLogger(__name__)

# Whether the current worker wrote outbox rows. Under eventlet (nameko
# services) threading.local is per green thread, i.e. per worker.
_written = threading.local()


def mark_written() -> None:
    """Called where outbox rows are inserted: the worker's end may then wake
    the relay at once instead of leaving the event to the next timer tick."""
    _written.value = True


def take_written() -> bool:
    """Whether this worker wrote outbox rows since the last call (and forget it)."""
    value = getattr(_written, "value", False)
    _written.value = False
    return value


class OutboxRelay:
    """Publishes a batch, then waits once for the broker's confirms (one
    ``basic_ack`` may cover many messages), instead of a round trip per
    event: a backlog left by a broker outage drains in a few rounds."""

    CONFIRM_TIMEOUT = 10.0
    exchange_name: str = ""  # set by each service's subclass

    def __init__(self, pool, amqp_uri: str, batch: int = 500):
        self.pool = pool
        self.amqp_uri = amqp_uri
        self.batch = batch
        self._connection: Connection | None = None
        self._channel = None
        self._published = 0  # delivery tags used on this channel
        self._acked = 0  # highest tag the broker confirmed
        self._nacked = False
        # One round at a time on the one channel; a round asked for while one
        # runs makes that one go round again (its rows may have been committed
        # after the running round's SELECT).
        self._lock = threading.Lock()
        self._again = False

    def _ensure_channel(self):
        if self._channel is None:
            connection = Connection(self.amqp_uri, connect_timeout=3)
            connection.ensure_connection(max_retries=1)
            channel = connection.channel()
            Exchange(self.exchange_name, type="topic", durable=True)(channel).declare()
            channel.confirm_select()
            channel.events["basic_ack"].add(self._on_ack)
            channel.events["basic_nack"].add(self._on_nack)
            self._connection, self._channel = connection, channel
            self._published = self._acked = 0
        return self._channel

    def _on_ack(self, delivery_tag: int, multiple: bool) -> None:
        # Tags are confirmed in order; "multiple" covers every tag up to this one.
        self._acked = max(self._acked, delivery_tag)

    def _on_nack(self, delivery_tag: int, multiple: bool) -> None:
        self._nacked = True

    def _reset(self) -> None:
        if self._connection is not None:
            try:
                self._connection.release()
            except Exception:  # noqa: BLE001 - the connection is already broken
                pass
        self._connection = None
        self._channel = None

    def _publish_confirmed(self, rows) -> None:
        channel = self._ensure_channel()
        self._nacked = False
        for row in rows:
            body = json.dumps(row["payload"]).encode()
            channel.basic_publish(
                amqp.Message(
                    body,
                    content_type="application/json",
                    content_encoding="utf-8",
                    delivery_mode=2,
                    message_id=str(row["event_id"]),
                    application_headers={"nameko.event_id": str(row["event_id"])},
                ),
                exchange=self.exchange_name,
                routing_key=row["event_type"],
            )
            self._published += 1
        deadline = time.monotonic() + self.CONFIRM_TIMEOUT
        while self._acked < self._published and not self._nacked:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("the broker did not confirm the outbox batch")
            self._connection.drain_events(timeout=remaining)
        if self._nacked:
            raise ConnectionError("the broker refused part of the outbox batch")

    def publish_pending(self) -> int:
        """Publish what is pending; returns how many events were published.

        Safe to call from several green threads (the timer and the nudges
        after writes): calls never overlap on the channel, and none is lost.
        """
        if not self._lock.acquire(blocking=False):
            self._again = True
            return 0
        try:
            published = 0
            while True:
                self._again = False
                published += self._round()
                if not self._again:
                    return published
        finally:
            self._lock.release()

    def _round(self) -> int:
        try:
            with self.pool.connection() as conn:
                with conn.transaction():
                    rows = conn.execute(
                        "SELECT id, event_id, event_type, payload FROM outbox "
                        "WHERE published_at IS NULL ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED",
                        (self.batch,),
                    ).fetchall()
                    if not rows:
                        return 0
                    self._publish_confirmed(rows)
                    conn.execute(
                        "UPDATE outbox SET published_at = now() WHERE id = ANY(%s)",
                        ([r["id"] for r in rows],),
                    )
                    return len(rows)
        except (OSError, ConnectionError, TimeoutError, socket.timeout) as exc:
            log.warning("outbox relay could not publish; will retry", extra={"error": repr(exc)})
            self._reset()
            return 0
        except Exception as exc:  # kombu/amqp raise many connection error types
            if _is_connection_error(exc):
                log.warning("outbox relay lost the broker; will retry", extra={"error": repr(exc)})
                self._reset()
                return 0
            raise

    def pending(self) -> int:
        with self.pool.connection() as conn:
            return conn.execute("SELECT count(*) AS n FROM outbox WHERE published_at IS NULL").fetchone()["n"]

    def close(self) -> None:
        self._reset()


def _is_connection_error(exc: Exception) -> bool:
    from amqp.exceptions import ConnectionError as AmqpConnectionError, RecoverableConnectionError
    from kombu.exceptions import OperationalError

    return isinstance(exc, (AmqpConnectionError, RecoverableConnectionError, OperationalError))
