"""The booking side of the feeds against the real database: the per-booking
SEQUENCE moves in the statement that changes a booking, ``feed_bookings``
returns one owner's bookings with their cancellations for a while, and a
feed built from them reads right in daylight-saving weeks."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import icalendar
import psycopg
import pytest
import vobject

from booking import usecases
from booking.adapters.db import open_pool
from booking.adapters.store import BookingStore
from booking.domain.access import Actor
from gateway.ical_feed import FeedSpec, Window, build_feed
from tests.support.clock import paris_at

pytestmark = pytest.mark.integration

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture(scope="module")
def store(booking_db_url):
    pool = open_pool(booking_db_url, 4)
    yield BookingStore(pool)
    pool.close()


def agent(place, i=0):
    return Actor(person_id=place.people[i], role="agent")


def book(store, place, resource, start, end, *, who=0, title="", now=None):
    return usecases.create_booking(
        store, now or start - timedelta(days=1), agent(place, who),
        {"resource_id": resource, "start": start.isoformat(), "end": end.isoformat(),
         "title": title})["booking"]


def feed(store, start, end, since=None, **owner):
    return usecases.feed_bookings(store, start.isoformat(), end.isoformat(),
                                  cancelled_since=since and since.isoformat(), **owner)["items"]


def test_sequence_grows_when_a_booking_is_extended_or_cancelled_not_when_checked_in(store, place):
    start = paris_at(6, 10)  # the use cases are given their "now": any hour of the run will do
    booking = book(store, place, place.rooms[0], start, start + timedelta(hours=1), title="Point",
                   now=start - timedelta(minutes=1))
    assert booking["sequence"] == 0
    now = start + timedelta(minutes=5)
    checked = usecases.check_in(store, now, agent(place), booking["id"])
    assert checked["sequence"] == 0
    longer = usecases.extend_booking(store, now, agent(place), booking["id"], 15)
    assert longer["sequence"] == 1 and longer["end"] != booking["end"]
    cancelled = usecases.cancel_booking(store, now, agent(place), booking["id"])["cancelled"][0]
    assert cancelled["sequence"] == 2 and cancelled["status"] == "cancelled"
    assert usecases.get_booking(store, agent(place), booking["id"])["sequence"] == 2

    window = (start - timedelta(days=1), start + timedelta(days=1))
    [item] = feed(store, *window, resource_id=place.rooms[0])
    assert item["booking"]["id"] == booking["id"] and item["booking"]["status"] == "cancelled"
    assert item["booking"]["sequence"] == 2 and item["booking"]["updated_at"]
    assert item["place"] == {"site": item["place"]["site"], "building": "Bâtiment",
                             "floor": "Étage 1", "zone": "Open space", "resource_code": "R00",
                             "timezone": "Europe/Paris"}
    assert item["person"]["id"] == place.people[0]
    # A cancellation older than the feed's memory is left out.
    later = now + timedelta(seconds=5)  # the cancellation is dated by the use case's "now"
    assert feed(store, *window, since=later, resource_id=place.rooms[0]) == []


def test_a_person_feed_holds_only_that_persons_bookings(store, place):
    start = paris_at(2, 9)  # a fixed hour: "now + 2 days" and 4 hours crossed midnight in the evening
    mine = book(store, place, place.desks[0], start, start + timedelta(hours=4), who=0)
    theirs = book(store, place, place.desks[1], start, start + timedelta(hours=4), who=1)
    window = (start - timedelta(days=1), start + timedelta(days=1))
    assert [i["booking"]["id"] for i in feed(store, *window, person_id=place.people[0])] == [mine["id"]]
    assert [i["booking"]["id"] for i in feed(store, *window, person_id=place.people[1])] == [theirs["id"]]


def test_feed_bookings_refuses_an_unclear_question(store, place):
    from booking.domain import errors

    now = datetime.now(timezone.utc)
    with pytest.raises(errors.Invalid):
        feed(store, now, now + timedelta(days=1))  # neither person nor resource
    with pytest.raises(errors.Invalid):
        feed(store, now, now + timedelta(days=1), person_id=place.people[0], resource_id=place.rooms[0])
    with pytest.raises(errors.Invalid):
        feed(store, now, now + timedelta(days=500), person_id=place.people[0])


@pytest.mark.parametrize("friday", [datetime(2027, 3, 26, tzinfo=PARIS), datetime(2027, 10, 29, tzinfo=PARIS)])
def test_a_daylight_saving_week_from_the_database_to_both_parsers(store, booking_db_url, friday):
    from tests.support.data import make_place

    place = make_place(booking_db_url, desks=0, rooms=1, people=1)
    room = place.rooms[0]
    now = friday - timedelta(days=5)
    before = friday.replace(hour=9)
    after = (friday + timedelta(days=3)).replace(hour=9)   # the Monday after the change
    for start in (before, after):
        book(store, place, room, start, start + timedelta(hours=1), title="Comité", now=now)
    items = feed(store, friday - timedelta(days=7), friday + timedelta(days=7), resource_id=room)
    assert len(items) == 2
    span = Window(friday - timedelta(days=7), friday + timedelta(days=7), friday - timedelta(days=7))
    body = build_feed(FeedSpec("dst", "room", "Salle 0"), items, span)
    parsed = icalendar.Calendar.from_ical(body)
    other = vobject.readOne(body.decode())
    starts = sorted(e.decoded("DTSTART") for e in parsed.walk("VEVENT"))
    vstarts = sorted(e.dtstart.value for e in other.vevent_list)
    for found in (starts, vstarts):
        assert [(s.hour, s.minute) for s in found] == [(9, 0), (9, 0)]
        assert [s.astimezone(timezone.utc) for s in found] == [before.astimezone(timezone.utc),
                                                              after.astimezone(timezone.utc)]
        assert found[0].utcoffset() != found[1].utcoffset()


def test_any_statement_that_moves_or_retitles_a_booking_bumps_its_sequence(store, place, booking_db_url):
    # Calendar sync (or any future path) moves bookings with its own UPDATE:
    # the trigger still bumps the revision in that very statement.
    start = paris_at(4, 9)  # clear of the other tests' days (the place is shared)
    booking = book(store, place, place.rooms[0], start, start + timedelta(hours=1))
    with psycopg.connect(booking_db_url) as conn:
        def update(sql, *params):
            return conn.execute(sql + " WHERE id = %s RETURNING sequence",
                                (*params, booking["id"])).fetchone()[0]

        assert update("UPDATE booking SET during = tstzrange(%s, %s, '[)')",
                      start + timedelta(hours=1), start + timedelta(hours=2)) == 1
        assert update("UPDATE booking SET title = %s", "Revue de projet") == 2
        assert update("UPDATE booking SET title = %s", "Revue de projet") == 2   # unchanged
        assert update("UPDATE booking SET status = 'checked_in'") == 2
        assert update("UPDATE booking SET updated_at = now()") == 2
        assert update("UPDATE booking SET status = 'released'") == 3
    [item] = feed(store, start - timedelta(days=1), start + timedelta(days=1),
                  since=datetime.now(timezone.utc) - timedelta(days=1), resource_id=place.rooms[0])
    assert item["booking"]["sequence"] == 3 and item["booking"]["title"] == "Revue de projet"
