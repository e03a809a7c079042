"""Outbox relay: publish pending outbox rows to RabbitMQ, then stamp them.

Rows are claimed with ``FOR UPDATE SKIP LOCKED`` so several presence processes
can relay side by side without publishing the same row in the same round.
Publishing uses publisher confirms: a row is stamped only after the broker
confirmed it, and only in the transaction that claimed it. If the broker is
unreachable, the transaction rolls back and the rows wait for the next round,
so a change committed while RabbitMQ is down still has its event published
once the broker is back.
"""

from __future__ import annotations

import logging

from kombu import Connection, Exchange, Producer

from ..domain.events import EXCHANGE

log = logging.getLogger(__name__)


class OutboxRelay:
    def __init__(self, pool, amqp_uri: str, batch: int = 500):
        self.pool = pool
        self.amqp_uri = amqp_uri
        self.batch = batch
        self.exchange = Exchange(EXCHANGE, type="topic", durable=True)
        self._connection: Connection | None = None
        self._producer: Producer | None = None

    def _ensure_producer(self) -> Producer:
        if self._producer is None:
            connection = Connection(
                self.amqp_uri, transport_options={"confirm_publish": True}, connect_timeout=3
            )
            connection.ensure_connection(max_retries=1)
            channel = connection.channel()
            self.exchange(channel).declare()
            self._connection = connection
            self._producer = Producer(channel, exchange=self.exchange, serializer="json")
        return self._producer

    def _reset(self) -> None:
        if self._connection is not None:
            try:
                self._connection.release()
            except Exception:  # noqa: BLE001 - the connection is already broken
                pass
        self._connection = None
        self._producer = None

    def publish_pending(self) -> int:
        """One round: returns how many events were published."""
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
                    producer = self._ensure_producer()
                    for row in rows:
                        producer.publish(
                            row["payload"],
                            routing_key=row["event_type"],
                            delivery_mode=2,
                            message_id=str(row["event_id"]),
                            headers={"nameko.event_id": str(row["event_id"])},
                            retry=False,
                        )
                    conn.execute(
                        "UPDATE outbox SET published_at = now() WHERE id = ANY(%s)",
                        ([r["id"] for r in rows],),
                    )
                    return len(rows)
        except (OSError, ConnectionError) as exc:
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
