"""Fault injection under a steady booking load, on two processes of each kind
(booking, presence, gateway): what a client was told must stay true.

Each test is bounded: the load runs a few seconds, every wait has a timeout.
The install runs on a RabbitMQ node of its own (tests/resilience/system.py),
so the broker restart (``rabbitmqctl stop_app`` / ``start_app``) disturbs no
one else's tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import amqp
import httpx
import pytest
from kombu import Connection

from tests.support.processes import BIN
from tests.support.clock import paris_today

from .system import System, queue_depth, restarted, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def system():
    installed = System(replicas=2)
    try:
        yield installed.start()
    finally:
        installed.stop()


def test_broker_setup_declares_every_consumer_queue_before_any_service_starts(system):
    out = system.setup_output
    for queue in ("rpc-booking", "rpc-presence", "rpc-notify", "dlq-presence", "dlq-notify",
                  "evt-booking-booking.created--presence.on_booking_created",
                  "evt-booking-booking.created--notify.on_booking_created"):
        assert f"broker: {queue}: ready" in out
    # notify never ran in this install, yet its queue holds the events meant for it.
    place = system.place(2)
    token = system.tokens_for(place)[0]
    before = queue_depth(system.amqp_uri, "evt-booking-booking.created--notify.on_booking_created")
    answer = httpx.post(f"{system.gateways[0].url}/api/v1/bookings", timeout=15,
                        json={"resource_id": place.desks[0], "date": (paris_today() + timedelta(days=2)).isoformat(), "period": "day"},
                        headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 201, answer.text
    wait_until(lambda: queue_depth(system.amqp_uri,
                                   "evt-booking-booking.created--notify.on_booking_created") == before + 1,
               20, what="the event kept for notify")


def test_kill_9_of_a_booking_process_loses_and_doubles_no_acknowledged_booking(system):
    """Then of a presence process: its unacknowledged events go to the other."""
    place = system.place(16)
    load = system.load(place).start()
    try:
        load.wait_for(10, timeout=30)
        system.bookings[0].kill()  # SIGKILL: no goodbye to the broker or the database
        load.wait_for(10, timeout=40)
        # A consumer too, while it applies events: they are delivered again to the other.
        system.presences[0].kill()
        load.wait_for(10, timeout=40)
    finally:
        outcomes = load.stop()
        with ThreadPoolExecutor(2) as pool:
            system.bookings[0], system.presences[0] = pool.map(
                restarted, [system.bookings[0], system.presences[0]])
    statuses = {o.status for o in outcomes}
    assert statuses <= {201, 503, 504}, f"unexpected answers: {statuses}"
    acknowledged = load.acknowledged()
    assert len(acknowledged) >= 30
    system.assert_every_acknowledged_booking_reached_presence_once(acknowledged)


def dead_letters(amqp_uri: str, queue: str = "dlq-presence") -> dict[str, str]:
    """body -> the queue it died in, of every message in ``queue``, left in place
    (taken unacknowledged; closing the channel gives them back)."""
    found = {}
    with Connection(amqp_uri, connect_timeout=5) as conn:
        channel = conn.channel()
        while (message := channel.basic_get(queue, no_ack=False)) is not None:
            body = message.body.decode() if isinstance(message.body, bytes) else message.body
            found[body] = message.headers["x-death"][0]["queue"]
    return found


def test_a_poison_message_is_dead_lettered_and_presence_keeps_consuming(system):
    queue = "evt-booking-booking.created--presence.on_booking_created"
    tag = uuid.uuid4().hex
    poison = [f"{{not json {tag}", json.dumps(["not", "an", "event", tag])]
    with Connection(system.amqp_uri, connect_timeout=5) as conn:
        channel = conn.channel()
        channel.confirm_select()
        for body in poison:
            channel.basic_publish_confirm(
                amqp.Message(body.encode(), content_type="application/json", content_encoding="utf-8",
                             delivery_mode=2),
                exchange="booking.events", routing_key="booking.created")
    dead = wait_until(lambda: (d := dead_letters(system.amqp_uri)) and all(b in d for b in poison) and d, 30,
                      what="both poison messages in dlq-presence")
    assert {dead[b] for b in poison} == {queue}  # x-death names the queue they died in
    # The operator's replay sends them back where they died; still poison,
    # they are dead-lettered again, and nothing loops in the queue.
    replay = subprocess.run([str(BIN / "escale"), "broker", "replay", "presence"], capture_output=True,
                            text=True, timeout=120, env={**os.environ, "ESCALE_AMQP_URI": system.amqp_uri})
    assert replay.returncode == 0, replay.stderr
    assert f"back to {queue}" in replay.stdout
    wait_until(lambda: all(b in dead_letters(system.amqp_uri) for b in poison), 30,
               what="the replayed poison dead-lettered again")
    wait_until(lambda: queue_depth(system.amqp_uri, queue) == 0, 20, what="the queue drained")
    place = system.place(2)
    load = system.load(place).start()
    try:
        load.wait_for(2, timeout=30)
    finally:
        load.stop()
    system.assert_every_acknowledged_booking_reached_presence_once(load.acknowledged(), timeout=30)


def test_reads_are_served_while_booking_is_down_and_writes_get_a_clear_503(system):
    place = system.place(2)
    token = system.tokens_for(place)[0]
    headers = {"Authorization": f"Bearer {token}", "Accept-Language": "en"}
    gateway = system.gateways[1].url
    sites = httpx.get(f"{gateway}/api/v1/sites", headers=headers, timeout=15)
    assert sites.status_code == 200
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda process: process.stop(), system.bookings))
    try:
        again = httpx.get(f"{gateway}/api/v1/sites", headers=headers, timeout=15)
        assert again.status_code == 200 and again.json() == sites.json()  # the catalogue cache
        started = time.monotonic()
        refused = httpx.post(f"{gateway}/api/v1/bookings", headers=headers, timeout=15,
                             json={"resource_id": place.desks[0], "date": (paris_today() + timedelta(days=3)).isoformat(), "period": "day"})
        assert time.monotonic() - started < 5, "a stopped service must be refused at once, not waited for"
        assert refused.status_code == 503
        assert refused.json()["error"] == "service_unavailable"
        assert "booking" in refused.json()["message"]
        assert refused.headers.get("Retry-After")
    finally:
        with ThreadPoolExecutor(2) as pool:
            system.bookings[:] = list(pool.map(restarted, system.bookings))


def test_where_is_is_answered_from_the_read_model_while_presence_is_down(system):
    place = system.place(2)
    token = system.tokens_for(place)[0]
    headers = {"Authorization": f"Bearer {token}", "Accept-Language": "en"}
    url = f"{system.gateways[0].url}/api/v1/presence/{place.people[1]}"
    # presence copies new people from booking's directory every 2 s here.
    before = wait_until(lambda: (r := httpx.get(url, headers=headers, timeout=15)).status_code == 200 and r,
                        30, what="the colleague in presence's read model")
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda process: process.stop(), system.presences))
    try:
        during = httpx.get(url, headers=headers, timeout=15)
        assert during.status_code == 200
        assert during.json() == before.json()
    finally:
        with ThreadPoolExecutor(2) as pool:
            system.presences[:] = list(pool.map(restarted, system.presences))


@pytest.mark.timeout(300)
def test_a_broker_restart_loses_nothing_and_everyone_reconnects(system):
    """stop_app/start_app on the install's RabbitMQ: services, gateways and the
    outbox relay reconnect by themselves; bookings acknowledged before,
    during and after reach presence, once."""
    place = system.place(16)
    load = system.load(place).start()
    try:
        load.wait_for(10, timeout=30)
        began = len(load.outcomes)
        system.rabbit.stop_app()
        try:
            time.sleep(3)
        finally:
            system.rabbit.start_app()
        restarted = len(load.outcomes)
        load.wait_for(10, timeout=90)
    finally:
        outcomes = load.stop()
    after = outcomes[restarted:]
    during = outcomes[began:restarted]
    # Answered during the outage: refused at once (503) or held until the
    # broker was back (201), never left hanging past the RPC timeout.
    assert during, "no request was made while the broker was down"
    assert all(o.seconds < 12 for o in during), [(o.status, o.seconds) for o in during]
    assert any(o.status == 201 for o in after), "no booking succeeded after the broker came back"
    statuses = {o.status for o in outcomes}
    assert statuses <= {201, 503, 504}, f"unexpected answers: {statuses}"
    for process in system.bookings + system.presences + system.gateways:
        wait_until(lambda: httpx.get(process.health_url, timeout=2).status_code == 200, 30,
                   what=f"{process.name} ready again")
    system.assert_every_acknowledged_booking_reached_presence_once(load.acknowledged(), timeout=90)
    wait_until(lambda: system.outbox_pending() == 0, 30, what="the outbox drained")
