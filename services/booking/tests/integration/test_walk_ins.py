"""Walk-in bookings from a door tablet ("book now"): no owner, the room from
the device only, never past the next meeting, and every reader of bookings
copes with a booking nobody owns."""

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


def agent(place, n=0):
    return Actor(person_id=place.people[n], role="agent")


def book(store, place, start, minutes=30, person=0, title="Point hebdo"):
    return usecases.create_booking(store, start - timedelta(days=1), agent(place, person), {
        "resource_id": place.rooms[0], "start": start.isoformat(),
        "end": (start + timedelta(minutes=minutes)).isoformat(), "title": title})["booking"]


def test_a_tablet_books_its_room_now_without_an_owner_recorded_with_its_id(store, place, booking_db_url):
    now = paris_at(1, 10, 7) + timedelta(seconds=42)
    device = tablet(place.rooms[0])
    booked = usecases.book_now(store, now, device, 30)
    assert booked["status"] == "checked_in"  # someone is at the door: never a no-show
    assert booked["walk_in"] is True and "person_id" not in booked
    assert datetime.fromisoformat(booked["start"]) == paris_at(1, 10, 7)
    assert datetime.fromisoformat(booked["end"]) == paris_at(1, 10, 37)
    with psycopg.connect(booking_db_url) as conn:
        row = conn.execute("SELECT person_id, source, created_by FROM booking WHERE id = %s",
                           (booked["id"],)).fetchone()
        assert row == (None, "tablet", None)
        assert conn.execute("SELECT device_id::text, action FROM device_action WHERE booking_id = %s",
                            (booked["id"],)).fetchall() == [(device.device_id, "book")]
        event = conn.execute("SELECT payload FROM outbox WHERE event_type = 'booking.created' "
                             "AND payload->'booking'->>'id' = %s", (booked["id"],)).fetchone()[0]
    assert event["person"] is None and event["booking"]["person_id"] is None
    assert event["booking"]["source"] == "tablet" and event["resource"]["id"] == place.rooms[0]

    # The room is taken: nobody books over it, and the tablet cannot book twice.
    with pytest.raises(errors.ResourceAlreadyBooked):
        usecases.book_now(store, now + timedelta(minutes=1), device, 15)
    # Readers cope: the site's list, the owner-less row in a person-less query, an admin.
    admin = Actor(person_id=None, role="admin")
    listed = usecases.list_bookings(store, now, admin, resource_id=place.rooms[0],
                                    start=now.isoformat(), end=(now + timedelta(hours=1)).isoformat())
    assert [b["person_id"] for b in listed] == [None]
    assert usecases.list_bookings(store, now, agent(place), person_id=place.people[0]) == []
    others = usecases.get_booking(store, agent(place), booked["id"])
    assert "person_id" not in others and "title" not in others
    # The tablet ends it early like any meeting of its room.
    assert usecases.end_booking(store, now + timedelta(minutes=5), device, booked["id"])["status"] == "ended"


def test_book_now_never_goes_past_the_next_meeting(store, place):
    next_one = book(store, place, paris_at(2, 10, 30))
    device = tablet(place.rooms[0])
    now = paris_at(2, 10, 5)
    with pytest.raises(errors.ResourceAlreadyBooked) as taken:
        usecases.book_now(store, now, device, 30)
    assert taken.value.details["conflict"]["id"] == next_one["id"]
    with pytest.raises(errors.ResourceAlreadyBooked):
        usecases.book_now(store, now, device, 60)
    fits = usecases.book_now(store, now, device, 15)  # 10:05-10:20, before 10:30
    assert datetime.fromisoformat(fits["end"]) == paris_at(2, 10, 20)


def test_only_the_rooms_own_tablet_books_now_and_only_15_30_or_60_minutes(store, place):
    now = paris_at(3, 9)
    for actor in (agent(place), Actor(person_id=None, role="admin"),
                  Actor(person_id=None, role="device", room_id=place.rooms[0])):  # no device id
        with pytest.raises(errors.Forbidden):
            usecases.book_now(store, now, actor, 15)
    with pytest.raises(errors.Forbidden):  # a tablet paired with a desk (never: pairing refuses it)
        usecases.book_now(store, now, tablet(place.desks[0]), 15)
    with pytest.raises(errors.NotFound):
        usecases.book_now(store, now, tablet(str(uuid.uuid4())), 15)
    for minutes in (0, 20, 90, True, "15"):
        with pytest.raises(errors.Invalid):
            usecases.book_now(store, now, tablet(place.rooms[0]), minutes)


def test_the_database_keeps_an_owner_on_every_booking_but_a_tablets(store, place, booking_db_url):
    start = paris_at(4, 11)
    with psycopg.connect(booking_db_url) as conn, pytest.raises(psycopg.errors.CheckViolation):
        conn.execute(
            "INSERT INTO booking (resource_id, resource_kind, person_id, during, source) "
            "VALUES (%s, 'room', NULL, tstzrange(%s, %s, '[)'), 'api')",
            (place.rooms[0], start, start + timedelta(minutes=15)))


def test_active_bookings_lists_a_walk_in_with_a_null_person(store, place):
    now = paris_at(5, 14)
    walk_in = usecases.book_now(store, now, tablet(place.rooms[0]), 60)
    owned = book(store, place, paris_at(5, 16))
    items, after = [], None
    while True:
        page = usecases.active_bookings(store, paris_at(5, 0).isoformat(), paris_at(6, 0).isoformat(), after)
        items += page["items"]
        after = page["next"]
        if not after:
            break
    by_id = {i["booking"]["id"]: i for i in items}
    assert by_id[walk_in["id"]]["person"] is None
    assert by_id[owned["id"]]["person"]["id"] == place.people[0]


def test_the_tablet_sees_the_organisers_name_never_their_id(store, place, booking_db_url):
    owned = book(store, place, paris_at(6, 9), title="Comité")
    walk_in = usecases.book_now(store, paris_at(6, 11), tablet(place.rooms[0]), 15)
    shown = {b["id"]: b for b in usecases.list_bookings(
        store, paris_at(6, 8), tablet(place.rooms[0]), resource_id=place.rooms[0],
        start=paris_at(6, 0).isoformat(), end=paris_at(7, 0).isoformat())}
    with psycopg.connect(booking_db_url) as conn:
        name = conn.execute("SELECT display_name FROM person WHERE id = %s",
                            (place.people[0],)).fetchone()[0]
    assert shown[owned["id"]]["organiser"] == name and shown[owned["id"]]["walk_in"] is False
    assert "person_id" not in shown[owned["id"]] and shown[owned["id"]]["title"] == "Comité"
    assert shown[walk_in["id"]]["organiser"] is None and shown[walk_in["id"]]["walk_in"] is True
    # Another room's tablet learns nothing of who.
    elsewhere = usecases.list_bookings(store, paris_at(6, 8), tablet(str(uuid.uuid4())),
                                       resource_id=place.rooms[0], start=paris_at(6, 0).isoformat(),
                                       end=paris_at(7, 0).isoformat())
    assert all("organiser" not in b and "title" not in b for b in elsewhere)
