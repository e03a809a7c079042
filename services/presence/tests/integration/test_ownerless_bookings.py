"""Walk-in bookings made at a room's door tablet have no owner (``person_id``
null, ``person`` null): presence handles their events and snapshots without
error, publishes nothing about anyone, and keeps people's presence as it was."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from presence import usecases
from presence.domain.access import Actor

from .conftest import booking_event, local

pytestmark = pytest.mark.integration


def walk_in(event_type, site, start, end, booking_id=None):
    event = booking_event(event_type, None, site, start, end, kind="room", booking_id=booking_id)
    event["person"] = None
    event["booking"]["source"] = "tablet"
    return event


@pytest.fixture
def world(ports):
    fake = ports.booking
    site = fake.add_site()
    alice = fake.add_person("Alice Martin", "DSI")
    today = datetime.now(timezone.utc).astimezone(usecases.ZoneInfo("Europe/Paris")).date()
    now = local(today, 10, 0)
    usecases.maintain(ports, now, usecases.Upkeep(), 30)
    return {"site": site, "alice": alice, "now": now}


def outbox_count(ports) -> int:
    with ports.store.unit() as unit:
        return unit.conn.execute("SELECT count(*) AS n FROM outbox").fetchone()["n"]


def test_walk_in_events_are_handled_and_tell_nothing_about_anyone(ports, world):
    now, site, alice = world["now"], world["site"], world["alice"]
    before = usecases.where_is(ports, Actor(alice, "agent"), alice, None, now)
    published = outbox_count(ports)
    created = walk_in("booking.created", site, now - timedelta(minutes=5), now + timedelta(minutes=25))
    booking_id = created["booking"]["id"]
    for event_type in ("booking.created", "booking.checked_in", "booking.ended"):
        event = created if event_type == "booking.created" else \
            walk_in(event_type, site, now - timedelta(minutes=5), now + timedelta(minutes=25), booking_id)
        assert usecases.on_booking_event(ports, event_type, event, now) == "ownerless"
    with ports.store.unit() as unit:
        assert unit.fact_status(booking_id) is None
    assert outbox_count(ports) == published
    assert usecases.where_is(ports, Actor(alice, "agent"), alice, None, now) == before


def test_a_snapshot_with_a_walk_in_rebuilds_everyone_else(ports, world):
    now, site, alice = world["now"], world["site"], world["alice"]
    room = walk_in("booking.created", site, now - timedelta(minutes=5), now + timedelta(minutes=25))
    room["booking"]["id"] = "0" * 8 + str(uuid.uuid4())[8:]  # first in the page, by id
    desk = booking_event("booking.created", alice, site, now - timedelta(hours=1), now + timedelta(hours=2))
    ports.booking.bookings[room["booking"]["id"]] = {k: room[k] for k in ("booking", "person", "resource", "site")}
    ports.booking.bookings[desk["booking"]["id"]] = {k: desk[k] for k in ("booking", "person", "resource", "site")}
    changed = usecases.reconcile_bookings(ports, now)
    assert changed == {alice}
    with ports.store.unit() as unit:
        assert unit.fact_status(room["booking"]["id"]) is None
        assert unit.fact_status(desk["booking"]["id"]) == "confirmed"
