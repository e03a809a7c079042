"""Door tablets acting on bookings: check in and end early from the room's
tablet, recorded with the device's id; never on another room's bookings."""

import uuid
from datetime import datetime, timedelta

import psycopg
import pytest

from booking import usecases
from booking.domain import errors
from booking.domain.access import Actor
from tests.support.clock import paris_at

pytestmark = pytest.mark.integration


def tablet(room_id, device_id=None):
    return Actor(person_id=None, role="device", room_id=room_id, device_id=device_id or str(uuid.uuid4()))


def meeting(store, place, start, minutes=30, person=0, room=0):
    return usecases.create_booking(store, start - timedelta(minutes=1),
                                   Actor(person_id=place.people[person], role="agent"), {
        "resource_id": place.rooms[room], "start": start.isoformat(),
        "end": (start + timedelta(minutes=minutes)).isoformat(), "title": "Point hebdo"})["booking"]


def actions(booking_db_url, booking_id):
    with psycopg.connect(booking_db_url) as conn:
        return conn.execute("SELECT device_id::text, action FROM device_action WHERE booking_id = %s "
                            "ORDER BY id", (booking_id,)).fetchall()


def test_the_rooms_tablet_checks_in_and_ends_early_and_both_are_recorded(store, place, booking_db_url):
    start = paris_at(1, 10)
    booking = meeting(store, place, start)
    device = tablet(place.rooms[0])

    checked = usecases.check_in(store, start + timedelta(minutes=2), device, booking["id"])
    assert checked["status"] == "checked_in"
    assert "person_id" not in checked  # a tablet is not the organiser
    assert checked["title"] == "Point hebdo"  # shown at the door (unless the room is private)
    assert "title" not in usecases.get_booking(store, tablet(str(uuid.uuid4())), booking["id"])
    ended = usecases.end_booking(store, start + timedelta(minutes=10), device, booking["id"])
    assert ended["status"] == "ended"
    assert actions(booking_db_url, booking["id"]) == [(device.device_id, "check_in"),
                                                      (device.device_id, "end")]
    with psycopg.connect(booking_db_url) as conn:
        published = conn.execute(
            "SELECT count(*) FROM outbox WHERE event_type = 'booking.ended' "
            "AND payload->'booking'->>'id' = %s", (booking["id"],)).fetchone()[0]
    assert published == 1
    # The room is free at once for the rest of the slot.
    later = start + timedelta(minutes=11)
    usecases.create_booking(store, later, Actor(person_id=place.people[1], role="agent"), {
        "resource_id": place.rooms[0], "start": later.isoformat(),
        "end": (later + timedelta(minutes=15)).isoformat()})
    with pytest.raises(errors.InvalidState):
        usecases.end_booking(store, start + timedelta(minutes=12), device, booking["id"])


def test_the_owner_ends_early_but_not_before_the_start_nor_someone_else(store, place, booking_db_url):
    start = paris_at(2, 10)
    booking = meeting(store, place, start)
    owner = Actor(person_id=place.people[0], role="agent")
    with pytest.raises(errors.InvalidState):
        usecases.end_booking(store, start - timedelta(minutes=1), owner, booking["id"])
    with pytest.raises(errors.Forbidden):
        usecases.end_booking(store, start + timedelta(minutes=1),
                             Actor(person_id=place.people[1], role="agent"), booking["id"])
    assert usecases.end_booking(store, start + timedelta(minutes=1), owner, booking["id"])["status"] == "ended"
    assert actions(booking_db_url, booking["id"]) == []  # a person's action is not a device's


def test_a_tablet_cannot_touch_another_rooms_booking(store, place):
    start = paris_at(3, 10)
    booking = meeting(store, place, start)
    elsewhere = tablet(str(uuid.uuid4()))
    with pytest.raises(errors.Forbidden):
        usecases.check_in(store, start + timedelta(minutes=1), elsewhere, booking["id"])
    with pytest.raises(errors.Forbidden):
        usecases.end_booking(store, start + timedelta(minutes=1), elsewhere, booking["id"])
    # Nor cancel, even in its own room: only check in and end are a tablet's.
    with pytest.raises(errors.Forbidden):
        usecases.cancel_booking(store, start - timedelta(minutes=5), tablet(place.rooms[0]), booking["id"])
    # A device token without a device id (older gateways) acts on nothing.
    with pytest.raises(errors.Forbidden):
        usecases.check_in(store, start + timedelta(minutes=1),
                          Actor(person_id=None, role="device", room_id=place.rooms[0]), booking["id"])


def test_the_rooms_tablet_extends_a_meeting_until_the_next_one(store, place, booking_db_url):
    start = paris_at(4, 10)
    booking = meeting(store, place, start, minutes=30)
    meeting(store, place, start + timedelta(minutes=60), minutes=30, person=1)  # the next one
    device = tablet(place.rooms[0])
    during = start + timedelta(minutes=20)

    longer = usecases.extend_booking(store, during, device, booking["id"], 30)
    assert datetime.fromisoformat(longer["end"]) == start + timedelta(minutes=60)
    with pytest.raises(errors.ResourceAlreadyBooked) as taken:  # never past the next meeting
        usecases.extend_booking(store, during, device, booking["id"], 15)
    assert taken.value.details["conflict"]["id"] != booking["id"]
    assert usecases.get_booking(store, Actor(person_id=place.people[0], role="agent"),
                                booking["id"])["end"] == longer["end"]
    with pytest.raises(errors.Invalid):
        usecases.extend_booking(store, during, device, booking["id"], 45)
    with pytest.raises(errors.Forbidden):
        usecases.extend_booking(store, during, tablet(str(uuid.uuid4())), booking["id"], 15)
    with pytest.raises(errors.InvalidState):  # not under way yet
        usecases.extend_booking(store, start - timedelta(minutes=5), device, booking["id"], 15)
    assert actions(booking_db_url, booking["id"]) == [(device.device_id, "extend")]
    with psycopg.connect(booking_db_url) as conn:
        updated = conn.execute(
            "SELECT count(*) FROM outbox WHERE event_type = 'booking.updated' "
            "AND payload->'booking'->>'id' = %s", (booking["id"],)).fetchone()[0]
    assert updated == 1
