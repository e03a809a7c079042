"""Declare every consumer queue before any service runs (``escale broker setup``).

RabbitMQ drops an event published to an exchange with no queue bound: if
presence or notify had never started, booking's first events would be lost.
This module reads the services' entrypoints (the same
:mod:`escale_common.messaging` classes the services run), and declares their
exchanges, quorum queues, bindings and dead-letter queues.

A queue's type cannot change once declared. A queue left by an earlier
release as a *classic* queue is migrated without losing a message: a
holding quorum queue takes the queue's bindings, the old queue's messages
are moved into it (publisher confirms, then ack), the old queue is deleted
and declared again as a quorum queue, and the held messages are moved back.
An event routed twice while the bindings switch is delivered twice, which
consumers absorb (they remember event ids).
"""

from __future__ import annotations

import inspect
import logging
from dataclasses import dataclass, field

import amqp
from kombu import Connection

from . import messaging

log = logging.getLogger(__name__)

PRECONDITION_FAILED = 406
NOT_FOUND = 404


@dataclass(frozen=True)
class QueueSpec:
    name: str
    arguments: dict
    bindings: tuple[tuple[str, str], ...]  # (exchange, routing key)


@dataclass
class Topology:
    exchanges: dict[str, str] = field(default_factory=dict)  # name -> type
    queues: list[QueueSpec] = field(default_factory=list)

    def add_queue(self, spec: QueueSpec) -> None:
        if all(q.name != spec.name for q in self.queues):
            self.queues.append(spec)


def topology_of(*service_classes) -> Topology:
    """What the given nameko service classes consume, as they would declare it."""
    topology = Topology()
    for cls in service_classes:
        service = cls.name
        dead = False
        for attr, member in inspect.getmembers(cls, callable):
            for entrypoint in getattr(member, "nameko_entrypoints", ()):
                if isinstance(entrypoint, messaging.Rpc):
                    topology.exchanges["nameko-rpc"] = "topic"
                    topology.add_queue(QueueSpec(
                        messaging.rpc_queue_name(service), messaging.rpc_queue_arguments(),
                        (("nameko-rpc", f"{service}.*"),)))
                elif isinstance(entrypoint, messaging.EventHandler):
                    exchange = f"{entrypoint.source_service}.events"
                    topology.exchanges[exchange] = "topic"
                    topology.add_queue(QueueSpec(
                        messaging.event_queue_name(entrypoint.source_service, entrypoint.event_type,
                                                   service, attr),
                        messaging.event_queue_arguments(service),
                        ((exchange, entrypoint.event_type),)))
                    dead = True
                elif type(entrypoint).__module__.startswith("nameko.") and type(entrypoint).__name__ in (
                        "Rpc", "EventHandler", "Consumer"):
                    raise TypeError(f"{service}.{attr} uses nameko's {type(entrypoint).__name__}: "
                                    "use escale_common.messaging's (quorum queue, dead-letter queue)")
        if dead:
            topology.exchanges[messaging.DEAD_LETTER_EXCHANGE] = "direct"
            topology.add_queue(QueueSpec(
                messaging.dead_letter_queue_name(service), {"x-queue-type": "quorum"},
                ((messaging.DEAD_LETTER_EXCHANGE, service),)))
    return topology


class _Broker:
    """A connection with one channel that is reopened after a channel error."""

    def __init__(self, amqp_uri: str):
        self.connection = Connection(amqp_uri, connect_timeout=5)
        self.connection.ensure_connection(max_retries=3)
        self.channel = self.connection.channel()

    def reopen(self):
        try:
            self.channel.close()
        except Exception:  # noqa: BLE001 - the broker already closed it
            pass
        self.channel = self.connection.channel()

    def declare(self, spec: QueueSpec) -> tuple[str, int, int] | None:
        """Declare as specified; None if a queue of that name has other arguments."""
        try:
            return self.channel.queue_declare(spec.name, durable=True, auto_delete=False,
                                              arguments=spec.arguments)
        except amqp.exceptions.PreconditionFailed:
            self.reopen()
            return None

    def bind(self, queue: str, bindings) -> None:
        for exchange, key in bindings:
            self.channel.queue_bind(queue, exchange, key)

    def unbind(self, queue: str, bindings) -> None:
        for exchange, key in bindings:
            self.channel.queue_unbind(queue, exchange, key)

    def move(self, source: str, target: str) -> int:
        """Move every ready message of ``source`` into ``target``: publish with
        a confirm, then acknowledge the original."""
        moved = 0
        channel = self.connection.channel()
        try:
            channel.confirm_select()
            while True:
                message = channel.basic_get(source, no_ack=False)
                if message is None:
                    return moved
                properties = dict(message.properties)
                headers = {k: v for k, v in (properties.get("application_headers") or {}).items()
                           if k != "x-delivery-count"}  # set by the broker on delivery
                properties["application_headers"] = headers
                copy = amqp.Message(message.body, **properties)
                channel.basic_publish_confirm(copy, exchange="", routing_key=target)
                channel.basic_ack(message.delivery_tag)
                moved += 1
        finally:
            channel.close()

    def replay(self, source: str, limit: int) -> dict[str, int]:
        """Send dead letters back to the queue each one died in (``x-death``),
        oldest first, at most ``limit``; returns how many went to each queue."""
        sent: dict[str, int] = {}
        channel = self.connection.channel()
        try:
            channel.confirm_select()
            for _ in range(limit):
                message = channel.basic_get(source, no_ack=False)
                if message is None:
                    break
                deaths = (message.properties.get("application_headers") or {}).get("x-death") or []
                queue = deaths[0].get("queue") if deaths else None
                if not queue:
                    channel.basic_reject(message.delivery_tag, requeue=True)
                    raise RuntimeError(f"a message in {source} has no x-death header: replay stopped")
                if isinstance(queue, bytes):
                    queue = queue.decode()
                properties = dict(message.properties)
                properties["application_headers"] = {
                    k: v for k, v in (properties.get("application_headers") or {}).items()
                    if k not in ("x-death", "x-delivery-count", "x-first-death-exchange",
                                 "x-first-death-queue", "x-first-death-reason", "x-last-death-exchange",
                                 "x-last-death-queue", "x-last-death-reason")}
                channel.basic_publish_confirm(amqp.Message(message.body, **properties),
                                              exchange="", routing_key=queue)
                channel.basic_ack(message.delivery_tag)
                sent[queue] = sent.get(queue, 0) + 1
            return sent
        finally:
            channel.close()

    def close(self):
        self.connection.release()


def setup(amqp_uri: str, topology: Topology) -> list[str]:
    """Declare (or migrate) everything; returns one line per queue for the operator."""
    broker = _Broker(amqp_uri)
    lines = []
    try:
        for name, kind in topology.exchanges.items():
            broker.channel.exchange_declare(name, kind, durable=True, auto_delete=False)
        for spec in topology.queues:
            declared = broker.declare(spec)
            if declared is None:
                moved = _migrate(broker, spec)
                lines.append(f"{spec.name}: declared again as a quorum queue with the current arguments "
                             f"({moved} message(s) kept)")
                continue
            broker.bind(spec.name, spec.bindings)
            _, count, consumers = declared
            lines.append(f"{spec.name}: ready ({count} message(s), {consumers} consumer(s))")
    finally:
        broker.close()
    return lines


def replay_dead_letters(amqp_uri: str, service: str, limit: int = 1000) -> dict[str, int]:
    """Put ``dlq-{service}``'s messages back in their queues (after the cause
    was fixed: a store back, a bug corrected); consumers deduplicate."""
    broker = _Broker(amqp_uri)
    try:
        return broker.replay(messaging.dead_letter_queue_name(service), limit)
    finally:
        broker.close()


def _migrate(broker: _Broker, spec: QueueSpec) -> int:
    holding = QueueSpec(f"{spec.name}.migrating", spec.arguments, spec.bindings)
    if broker.declare(holding) is None:
        raise RuntimeError(f"{holding.name} exists with other arguments: delete it and run again")
    broker.bind(holding.name, holding.bindings)
    broker.unbind(spec.name, spec.bindings)
    moved = broker.move(spec.name, holding.name)
    broker.channel.queue_delete(spec.name)
    log.warning("queue re-declared as a quorum queue", extra={"queue": spec.name, "moved": moved})
    if broker.declare(spec) is None:
        raise RuntimeError(f"{spec.name} could not be declared again")
    broker.bind(spec.name, spec.bindings)
    broker.unbind(holding.name, holding.bindings)
    broker.move(holding.name, spec.name)
    broker.channel.queue_delete(holding.name)
    return moved
