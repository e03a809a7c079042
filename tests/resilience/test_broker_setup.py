"""``escale broker setup`` on a broker that already has queues: a classic
queue of an earlier release becomes a quorum queue without losing a message."""

from __future__ import annotations

import uuid

import amqp
import pytest
from kombu import Connection

from escale_common import broker, messaging
from tests.support.servers import _rabbitmqctl

from .system import new_vhost

pytestmark = pytest.mark.integration


@pytest.fixture
def vhost_uri():
    vhost, uri = new_vhost(f"setup-{uuid.uuid4().hex[:8]}")
    yield uri
    _rabbitmqctl("delete_vhost", vhost)


def queue_type(channel, name: str) -> str:
    """RabbitMQ refuses a passive-less declaration whose type differs."""
    try:
        channel.queue_declare(name, durable=True, auto_delete=False, arguments={"x-queue-type": "classic"})
        return "classic"
    except amqp.exceptions.PreconditionFailed:
        return "quorum"


def test_a_classic_queue_with_messages_becomes_a_quorum_queue_and_keeps_them(vhost_uri):
    name = messaging.event_queue_name("booking", "booking.created", "presence", "on_booking_created")
    with Connection(vhost_uri) as conn:
        channel = conn.channel()
        channel.exchange_declare("booking.events", "topic", durable=True, auto_delete=False)
        channel.queue_declare(name, durable=True, auto_delete=False)  # as nameko 2.14 alone did
        channel.queue_bind(name, "booking.events", "booking.created")
        channel.confirm_select()
        for i in range(5):
            channel.basic_publish_confirm(
                amqp.Message(f'{{"event_id": "{i}"}}', content_type="application/json",
                             application_headers={"nameko.event_id": str(i)}),
                exchange="booking.events", routing_key="booking.created")
    spec = broker.QueueSpec(name, messaging.event_queue_arguments("presence"),
                            (("booking.events", "booking.created"),))
    topology = broker.Topology({"booking.events": "topic"}, [spec])

    lines = broker.setup(vhost_uri, topology)
    assert lines == [f"{name}: declared again as a quorum queue with the current arguments (5 message(s) kept)"]
    # Idempotent: a second run finds it as specified.
    assert broker.setup(vhost_uri, topology)[0].startswith(f"{name}: ready (5 message(s)")

    with Connection(vhost_uri) as conn:
        channel = conn.channel()
        assert queue_type(conn.channel(), name) == "quorum"
        # Still bound: a new event arrives behind the old ones, in order.
        channel.confirm_select()
        channel.basic_publish_confirm(amqp.Message('{"event_id": "5"}', content_type="application/json"),
                                      exchange="booking.events", routing_key="booking.created")
        bodies = []
        while (message := channel.basic_get(name, no_ack=True)) is not None:
            bodies.append(message.body if isinstance(message.body, str) else message.body.decode())
            if len(bodies) <= 5:
                assert message.headers["nameko.event_id"] == str(len(bodies) - 1)
        assert bodies == [f'{{"event_id": "{i}"}}' for i in range(6)]
        with pytest.raises(amqp.exceptions.NotFound):  # the holding queue is gone
            channel.queue_declare(f"{name}.migrating", passive=True)
