"""The outbox: an event leaves for every committed change, even when
RabbitMQ was unreachable when the change committed."""

import json
from datetime import datetime, timedelta, timezone

import psycopg
import pytest
from kombu import Connection, Exchange, Queue

from booking import usecases
from booking.adapters.relay import OutboxRelay
from booking.domain.access import Actor
from booking.domain.events import EXCHANGE
from tests.support.servers import free_port
from tests.support.clock import paris_today

pytestmark = pytest.mark.integration


def pending_for(db_url, booking_id):
    with psycopg.connect(db_url) as conn:
        return conn.execute(
            "SELECT count(*) FROM outbox WHERE payload->'booking'->>'id' = %s AND published_at IS NULL",
            (booking_id,),
        ).fetchone()[0]


def test_event_committed_while_broker_is_unreachable_is_published_once_it_is_back(
    store, place, booking_db_url, amqp_uri
):
    # A queue bound like a consumer's, in this run's vhost, declared first.
    exchange = Exchange(EXCHANGE, type="topic", durable=True)
    with Connection(amqp_uri) as conn:
        queue = Queue("test-outbox-created", exchange, routing_key="booking.created", auto_delete=False)
        queue(conn.default_channel).declare()
        queue(conn.default_channel).purge()

        tomorrow = (paris_today() + timedelta(days=1)).isoformat()
        booking = usecases.create_booking(
            store, datetime.now(timezone.utc), Actor(person_id=place.people[0], role="agent"),
            {"resource_id": place.desks[0], "date": tomorrow, "period": "day"},
        )["booking"]

        # Broker unreachable: a relay pointed at a closed port publishes nothing and keeps the row.
        down = OutboxRelay(store.pool, f"amqp://guest:guest@127.0.0.1:{free_port()}/")
        assert down.publish_pending() == 0
        assert pending_for(booking_db_url, booking["id"]) == 1

        # Broker back: the next round publishes it, exactly once.
        up = OutboxRelay(store.pool, amqp_uri)
        for _ in range(20):  # other tests' rows may be in the same outbox
            if up.publish_pending() == 0:
                break
        up.close()
        assert pending_for(booking_db_url, booking["id"]) == 0

        received = []
        simple = conn.SimpleQueue(queue)
        while True:
            try:
                message = simple.get(timeout=1)
            except simple.Empty:
                break
            received.append(message.payload if isinstance(message.payload, dict) else json.loads(message.body))
            message.ack()
        simple.close()
        mine = [e for e in received if e["booking"]["id"] == booking["id"]]
        assert len(mine) == 1
        event = mine[0]
        assert event["v"] == 1 and event["type"] == "booking.created"
        assert event["person"]["email"] == place.emails[0]
        assert event["resource"]["id"] == place.desks[0] and event["site"]["timezone"] == "Europe/Paris"
        queue(conn.default_channel).delete()
