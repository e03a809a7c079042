"""A booking's event leaves when the booking commits, not at the relay's next
sweep: door tablets and browsers show a change as soon as it is made."""

import json
import subprocess
import time
from datetime import timedelta

import httpx
import pytest
from kombu import Connection, Exchange, Queue

from tests.support.data import make_place
from tests.support.processes import booking_process, gateway_process
from tests.support.servers import AMQP_BASE, create_database, drop_database
from tests.support.clock import paris_today

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def slow_sweep(run_id):
    """A booking process whose outbox sweep runs once a minute, on a database
    and a vhost of its own (no other relay shares its outbox, no other booking
    process answers its gateway), behind its own gateway: only a writer's own
    wake-up can publish an event within seconds."""
    from booking.adapters.migrate import upgrade as upgrade_booking
    from gateway.adapters.migrate import upgrade as upgrade_gateway
    from gateway.adapters.tokens import issue_token

    names = [f"escale_test_{run_id}_sweep_booking", f"escale_test_{run_id}_sweep_gateway"]
    booking_db, gateway_db = (create_database(n) for n in names)
    upgrade_booking(booking_db)
    upgrade_gateway(gateway_db)
    vhost = f"escale-sweep-{run_id}"
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], check=True, timeout=60)
    subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"],
                   check=True, timeout=60)
    amqp_uri = f"{AMQP_BASE}/{vhost}"
    booking = booking_process(amqp_uri, booking_db, ESCALE_BOOKING_RELAY_INTERVAL="60").start()
    gateway = gateway_process(amqp_uri, gateway_db).start()
    place = make_place(booking_db)
    gateway.agent = {"Authorization": "Bearer " + issue_token(
        gateway_db, email=place.emails[0], role="agent", person_id=place.people[0])}
    gateway.place = place
    gateway.amqp_uri = amqp_uri
    yield gateway
    gateway.stop()
    booking.stop()
    for name in names:
        drop_database(name)
    subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], check=False, timeout=60)


def test_a_booking_event_is_published_as_the_booking_commits(slow_sweep):
    exchange = Exchange("booking.events", type="topic", durable=True)
    with Connection(slow_sweep.amqp_uri) as conn:
        queue = Queue("test-event-latency", exchange, routing_key="booking.created", auto_delete=True)
        queue(conn.default_channel).declare()
        day = (paris_today() + timedelta(days=3)).isoformat()
        answer = httpx.post(f"{slow_sweep.url}/api/v1/bookings", headers=slow_sweep.agent, timeout=15,
                            json={"resource_id": slow_sweep.place.desks[0], "date": day, "period": "day"})
        assert answer.status_code == 201, answer.text
        booked = answer.json()["id"]
        simple = conn.SimpleQueue(queue)
        seen = False
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not seen:
            try:
                message = simple.get(timeout=1)
            except simple.Empty:
                continue
            message.ack()
            body = message.payload if isinstance(message.payload, dict) else json.loads(message.body)
            seen = body.get("booking", {}).get("id") == booked
        simple.close()
    assert seen, "the event waited for the outbox sweep (60 s) instead of leaving with the booking"
