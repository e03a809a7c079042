"""nameko entrypoints with the delivery guarantees Escale promises.

nameko 2.14 declares classic durable queues with no arguments, prefetches as
many messages as a service has workers, requeues a failing message forever
(``requeue_on_error=True``) and lets an undecodable message break its
consumer loop. These subclasses keep nameko's wire protocol and queue names
(``rpc-{service}``, ``evt-{source}-{type}--{service}.{method}``) and change
only what is declared and how failures end:

* every queue is a **quorum** queue (replicated on a RabbitMQ cluster,
  durable, messages persistent);
* an event queue dead-letters to the direct exchange ``escale.dead-letter``
  with the consuming service's name as routing key, into the quorum queue
  ``dlq-{service}``: a message that keeps failing (the broker counts its
  deliveries, ``x-delivery-limit``) or that cannot be decoded at all lands
  there instead of looping or vanishing, and the service keeps consuming;
* the prefetch is bounded by ``ESCALE_AMQP_PREFETCH`` (and never above the
  service's worker count);
* acknowledgements stay nameko's: after the handler returned.

The same declarations are made by ``escale broker setup`` (see
:mod:`escale_common.broker`) before any service starts, so an event
published before its consumer's first start is kept, not dropped.
"""

from __future__ import annotations

import logging
import os

import amqp.exceptions
import kombu.exceptions
from kombu import Exchange, Queue
from nameko.events import EventHandler as _NamekoEventHandler
from nameko.messaging import QueueConsumer as _NamekoQueueConsumer
from nameko.rpc import Rpc as _NamekoRpc, RpcConsumer as _NamekoRpcConsumer, get_rpc_exchange

log = logging.getLogger(__name__)

_BROKER_GONE = (OSError, amqp.exceptions.ConnectionError, amqp.exceptions.RecoverableConnectionError,
                kombu.exceptions.OperationalError)

DEAD_LETTER_EXCHANGE = "escale.dead-letter"
DEFAULT_PREFETCH = 16
DEFAULT_DELIVERY_LIMIT = 100


class DeadLetter(Exception):
    """Raised by an event handler for a message it can never handle (malformed,
    unknown shape): the message goes to the dead-letter queue at once, with no
    retries, and the handler's next message is taken."""


def _env_int(name: str, default: int, low: int, high: int) -> int:
    raw = os.environ.get(name, str(default))
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise SystemExit(f"{name} must be between {low} and {high}, got {value}")
    return value


def prefetch_limit() -> int:
    return _env_int("ESCALE_AMQP_PREFETCH", DEFAULT_PREFETCH, 1, 1000)


def delivery_limit() -> int:
    return _env_int("ESCALE_AMQP_DELIVERY_LIMIT", DEFAULT_DELIVERY_LIMIT, 1, 1000)


def rpc_queue_name(service: str) -> str:
    return f"rpc-{service}"


def event_queue_name(source: str, event_type: str, service: str, method: str) -> str:
    return f"evt-{source}-{event_type}--{service}.{method}"


def dead_letter_queue_name(service: str) -> str:
    return f"dlq-{service}"


def rpc_queue_arguments() -> dict:
    # No dead-lettering: a request that waited past its caller's timeout
    # expires (per-message TTL) and is worth nothing to anyone.
    return {"x-queue-type": "quorum"}


def event_queue_arguments(service: str) -> dict:
    return {
        "x-queue-type": "quorum",
        "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
        "x-dead-letter-routing-key": service,
        "x-delivery-limit": delivery_limit(),
    }


def dead_letter_exchange() -> Exchange:
    return Exchange(DEAD_LETTER_EXCHANGE, type="direct", durable=True)


def dead_letter_queue(service: str) -> Queue:
    return Queue(dead_letter_queue_name(service), exchange=dead_letter_exchange(),
                 routing_key=service, durable=True, queue_arguments={"x-queue-type": "quorum"})


class QueueConsumer(_NamekoQueueConsumer):
    """nameko's consumer with a bounded prefetch, the service's dead-letter
    queue declared on every (re)connection (when it consumes events), and undecodable messages
    rejected (dead-lettered where the queue has a dead-letter exchange)."""

    @property
    def prefetch_count(self):
        return min(self.container.max_workers, prefetch_limit())

    def get_consumers(self, consumer_cls, channel):
        if any(isinstance(provider, EventHandler) for provider in self._providers):
            dead_letter_queue(self.container.service_name)(channel).declare()
        consumers = super().get_consumers(consumer_cls, channel)
        for consumer in consumers:
            consumer.on_decode_error = self._on_decode_error
        return consumers

    def reject_message(self, message):
        """Refuse for good: the broker dead-letters it (or drops it when the
        queue has no dead-letter exchange)."""
        if message.channel.connection:
            try:
                message.reject(requeue=False)
            except ConnectionError:  # pragma: no cover - the broker reclaims it anyway
                pass

    def _on_decode_error(self, message, exc):
        log.error("undecodable message rejected (dead-lettered if its queue has a dead-letter exchange)",
                  extra={"routing_key": message.delivery_info.get("routing_key"),
                         "content_type": message.content_type, "error": repr(exc)})
        message.reject(requeue=False)


class RpcConsumer(_NamekoRpcConsumer):
    queue_consumer = QueueConsumer()

    def handle_result(self, message, result, exc_info):
        """nameko lets a reply that cannot be published (the broker went away
        while the worker ran) kill the whole service. The caller lost its
        connection too (it answered 503 or times out); the request, not
        acknowledged, is redelivered while its TTL lasts. So: log, live on."""
        try:
            return super().handle_result(message, result, exc_info)
        except _BROKER_GONE as exc:
            log.warning("RPC reply lost with the broker connection; the request will be redelivered",
                        extra={"routing_key": message.delivery_info.get("routing_key"), "error": repr(exc)})
            return result, exc_info

    def setup(self):
        if self.queue is None:
            service = self.container.service_name
            self.queue = Queue(rpc_queue_name(service), exchange=get_rpc_exchange(self.container.config),
                               routing_key=f"{service}.*", durable=True,
                               queue_arguments=rpc_queue_arguments())
            self.queue_consumer.register_provider(self)
            self._registered = True


class Rpc(_NamekoRpc):
    rpc_consumer = RpcConsumer()


class EventHandler(_NamekoEventHandler):
    """A service-pool event handler on a quorum queue with a dead-letter queue.

    A handler that returns has its message acknowledged; one that raises
    :class:`DeadLetter` has it dead-lettered at once; one that raises
    anything else (a store away) gets it back (``requeue_on_error``
    defaults to True here) until the broker's delivery limit dead-letters
    it."""

    queue_consumer = QueueConsumer()

    def __init__(self, source_service, event_type, requeue_on_error=True, **kwargs):
        kwargs.setdefault("expected_exceptions", DeadLetter)
        super().__init__(source_service, event_type, requeue_on_error=requeue_on_error, **kwargs)

    def handle_message_processed(self, message, result=None, exc_info=None):
        if exc_info is not None and isinstance(exc_info[1], DeadLetter):
            self.queue_consumer.reject_message(message)
        else:
            super().handle_message_processed(message, result, exc_info)

    def setup(self):
        super().setup()
        service = self.container.service_name
        self.queue = Queue(
            event_queue_name(self.source_service, self.event_type, service, self.method_name),
            exchange=self.queue.exchange, routing_key=self.event_type, durable=True,
            queue_arguments=event_queue_arguments(service))


rpc = Rpc.decorator
event_handler = EventHandler.decorator
