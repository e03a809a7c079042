"""Booking use cases against the real PostgreSQL: what the database itself
guarantees (no double booking, one desk per person), idempotency, series,
cancellation, check-in and availability."""

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import psycopg
import pytest

from booking import usecases
from booking.domain import errors
from booking.domain.access import Actor
from tests.support.clock import paris_at, paris_today

pytestmark = pytest.mark.integration


def now():
    return datetime.now(timezone.utc)


def day(offset=1):
    return (paris_today() + timedelta(days=offset)).isoformat()


def agent(place, i=0):
    return Actor(person_id=place.people[i], role="agent")


def test_twenty_people_racing_for_one_desk_get_one_booking(store, place, booking_db_url):
    place_people = [place.people[i % 3] for i in range(20)]
    request = {"resource_id": place.desks[0], "date": day(2), "period": "morning"}

    def attempt(person):
        try:
            return usecases.create_booking(store, now(), Actor(person_id=person, role="agent"), dict(request))
        except errors.DomainError as exc:
            return exc

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(attempt, place_people))
    booked = [r for r in results if isinstance(r, dict)]
    refused = [r for r in results if isinstance(r, errors.ResourceAlreadyBooked)]
    assert len(booked) == 1 and len(refused) == 19
    assert refused[0].details["conflict"]["id"] == booked[0]["booking"]["id"]
    with psycopg.connect(booking_db_url) as conn:
        count = conn.execute(
            "SELECT count(*) FROM booking WHERE resource_id = %s AND status = 'confirmed'", (place.desks[0],)
        ).fetchone()[0]
    assert count == 1


def test_morning_and_afternoon_back_to_back(store, place):
    morning = usecases.create_booking(store, now(), agent(place, 0),
                                      {"resource_id": place.desks[1], "date": day(), "period": "morning"})
    afternoon = usecases.create_booking(store, now(), agent(place, 1),
                                        {"resource_id": place.desks[1], "date": day(), "period": "afternoon"})
    assert morning["booking"]["end"] == afternoon["booking"]["start"]
    with pytest.raises(errors.ResourceAlreadyBooked):
        usecases.create_booking(store, now(), agent(place, 2),
                                {"resource_id": place.desks[1], "date": day(), "period": "day"})


def test_one_person_cannot_hold_two_desks_at_once_but_may_add_a_room(store, place):
    me = agent(place)
    usecases.create_booking(store, now(), me, {"resource_id": place.desks[0], "date": day(3), "period": "day"})
    with pytest.raises(errors.PersonAlreadyHasDesk):
        usecases.create_booking(store, now(), me, {"resource_id": place.desks[1], "date": day(3), "period": "morning"})
    start = datetime.fromisoformat(f"{day(3)}T10:00:00+01:00")
    room = usecases.create_booking(store, now(), me, {
        "resource_id": place.rooms[0], "start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat()})
    assert room["booking"]["resource_kind"] == "room"


def test_same_idempotency_key_books_once_and_returns_the_first_answer(store, place, booking_db_url):
    me = agent(place)
    request = {"resource_id": place.desks[2], "date": day(4), "period": "day"}
    with ThreadPoolExecutor(5) as pool:
        answers = list(pool.map(
            lambda _: usecases.create_booking(store, now(), me, dict(request), "key-1"), range(5)))
    assert len({a["booking"]["id"] for a in answers}) == 1
    with psycopg.connect(booking_db_url) as conn:
        assert conn.execute("SELECT count(*) FROM booking WHERE resource_id = %s", (place.desks[2],)).fetchone()[0] == 1
    with pytest.raises(errors.IdempotencyKeyReused):
        usecases.create_booking(store, now(), me, {**request, "period": "morning"}, "key-1")


def test_weekly_series_books_what_is_free_and_says_why_not_for_the_rest(store, place):
    me, other = agent(place, 0), agent(place, 1)
    first = (paris_today() + timedelta(days=7))
    taken = (first + timedelta(days=14)).isoformat()
    usecases.create_booking(store, now(), other, {"resource_id": place.desks[3], "date": taken, "period": "day"})
    series = usecases.create_booking(store, now(), me, {
        "resource_id": place.desks[3], "date": first.isoformat(), "period": "day", "rrule": "FREQ=WEEKLY;COUNT=4"})
    assert len(series["bookings"]) == 3
    assert [s["reason"] for s in series["skipped"]] == ["resource_already_booked"]
    assert series["skipped"][0]["start"].startswith(taken)
    assert series["skipped"][0]["conflict"]["resource_id"] == place.desks[3]

    # Cancel the second occurrence and everything after it.
    second = series["bookings"][1]
    cancelled = usecases.cancel_booking(store, now(), me, second["id"], scope="following")["cancelled"]
    assert [b["id"] for b in cancelled] == [b["id"] for b in series["bookings"][1:]]
    assert usecases.get_booking(store, me, series["bookings"][0]["id"])["status"] == "confirmed"


def test_cancel_is_for_the_owner_and_cannot_happen_twice(store, place):
    me = agent(place)
    booking = usecases.create_booking(store, now(), me, {"resource_id": place.desks[0], "date": day(5), "period": "day"})["booking"]
    with pytest.raises(errors.Forbidden):
        usecases.cancel_booking(store, now(), agent(place, 1), booking["id"])
    assert usecases.cancel_booking(store, now(), me, booking["id"])["cancelled"][0]["status"] == "cancelled"
    with pytest.raises(errors.InvalidState):
        usecases.cancel_booking(store, now(), me, booking["id"])
    # The desk is free again.
    usecases.create_booking(store, now(), agent(place, 1), {"resource_id": place.desks[0], "date": day(5), "period": "day"})


def test_check_in_only_inside_the_window(store, place):
    me = agent(place)
    clock = paris_at(1, 9, 55)  # the use cases run at this time: clear of midnight
    soon = clock + timedelta(minutes=5)
    current = usecases.create_booking(store, clock, me, {
        "resource_id": place.rooms[0], "start": soon.isoformat(), "end": (soon + timedelta(minutes=10)).isoformat()})["booking"]
    later = usecases.create_booking(store, clock, me, {"resource_id": place.desks[1], "date": day(6), "period": "day"})["booking"]
    assert usecases.check_in(store, clock, me, current["id"])["status"] == "checked_in"
    with pytest.raises(errors.CheckInNotOpen):
        usecases.check_in(store, clock, me, later["id"])
    with pytest.raises(errors.Forbidden):
        usecases.check_in(store, clock, agent(place, 1), later["id"])
    # Once its time is over, a checked-in booking is ended by the timer's use case.
    assert usecases.end_finished(store, clock + timedelta(minutes=20)) >= 1
    assert usecases.get_booking(store, me, current["id"])["status"] == "ended"


def test_others_see_a_booking_without_who_holds_it(store, place):
    booking = usecases.create_booking(store, now(), agent(place), {"resource_id": place.desks[0], "date": day(8), "period": "day", "title": "Entretien"})["booking"]
    seen = usecases.get_booking(store, agent(place, 1), booking["id"])
    assert "person_id" not in seen and "title" not in seen and seen["status"] == "confirmed"
    admin = Actor(person_id=None, role="admin")
    assert usecases.get_booking(store, admin, booking["id"])["title"] == "Entretien"


def test_availability_of_a_floor(store, place):
    usecases.create_booking(store, now(), agent(place, 0), {"resource_id": place.desks[0], "date": day(9), "period": "day"})
    usecases.create_booking(store, now(), agent(place, 1), {"resource_id": place.desks[1], "date": day(9), "period": "morning"})
    answer = usecases.availability(store, now(), agent(place, 0), floor_id=place.floor_id, date=day(9),
                                   period="afternoon", kind="desk")
    status = {r["id"]: r["status"] for r in answer["resources"]}
    assert status[place.desks[0]] == "mine"
    assert status[place.desks[1]] == "free"  # booked only in the morning
    docking = usecases.availability(store, now(), agent(place, 0), floor_id=place.floor_id, date=day(9),
                                    period="day", attributes=["docking_station"])
    assert {r["id"] for r in docking["resources"]} == {place.desks[0], place.desks[3]}


def test_unknown_ids_and_bad_values_are_named(store, place):
    me = agent(place)
    with pytest.raises(errors.NotFound):
        usecases.create_booking(store, now(), me, {"resource_id": "00000000-0000-0000-0000-000000000000", "date": day(), "period": "day"})
    with pytest.raises(errors.NotFound):
        usecases.create_booking(store, now(), me, {"resource_id": "not-an-id", "date": day(), "period": "day"})
    with pytest.raises(errors.TooFarAhead):
        usecases.create_booking(store, now(), me, {"resource_id": place.desks[0], "date": day(3650), "period": "day"})
    with pytest.raises(errors.Invalid) as caught:
        usecases.create_booking(store, now(), me, {"resource_id": place.desks[0], "start": "2030-01-01T10:00:00+01:00", "end": "2030-01-01T09:00:00+01:00"})
    assert caught.value.details["field"] == "end"


def test_active_bookings_snapshot_pages_through_what_consumers_need(store, place):
    for i in range(3):
        usecases.create_booking(store, now(), agent(place, i),
                                {"resource_id": place.desks[i], "date": day(11), "period": "day"})
    start = datetime.fromisoformat(f"{day(11)}T00:00:00+00:00")
    end = start + timedelta(days=1)
    first = usecases.active_bookings(store, start.isoformat(), end.isoformat(), limit=2)
    rest = usecases.active_bookings(store, start.isoformat(), end.isoformat(), after=first["next"], limit=2)
    items = first["items"] + rest["items"]
    mine = [i for i in items if i["resource"]["id"] in place.desks[:3]]
    assert len(mine) == 3 and rest["next"] is None
    assert {i["person"]["email"] for i in mine} == set(place.emails)
    assert all(i["site"]["timezone"] == "Europe/Paris" for i in mine)


def test_no_shows_are_released_once_and_checked_in_bookings_never(store, place, booking_db_url):
    t0 = now()
    start = paris_at(1, 10)
    window = {"start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat()}
    ghost = usecases.create_booking(store, t0, agent(place, 0), {"resource_id": place.rooms[0], **window})["booking"]
    attended = usecases.create_booking(store, t0, agent(place, 1), {"resource_id": place.desks[1], **window})["booking"]
    unattended_desk = usecases.create_booking(store, t0, agent(place, 2), {"resource_id": place.desks[0], **window})["booking"]
    usecases.check_in(store, start + timedelta(minutes=5), agent(place, 1), attended["id"])

    # The place's rules release rooms and desks 30 minutes after the start.
    usecases.release_no_shows(store, start + timedelta(minutes=29))
    assert usecases.get_booking(store, agent(place, 0), ghost["id"])["status"] == "confirmed"

    later = start + timedelta(minutes=40)
    with ThreadPoolExecutor(4) as pool:  # four booking processes' timers at once
        list(pool.map(lambda _: usecases.release_no_shows(store, later), range(4)))
    assert usecases.get_booking(store, agent(place, 0), ghost["id"])["status"] == "released"
    assert usecases.get_booking(store, agent(place, 2), unattended_desk["id"])["status"] == "released"
    assert usecases.get_booking(store, agent(place, 1), attended["id"])["status"] == "checked_in"
    with psycopg.connect(booking_db_url) as conn:
        events = conn.execute(
            "SELECT count(*) FROM outbox WHERE event_type = 'booking.released' AND payload->'booking'->>'id' = %s",
            (ghost["id"],)).fetchone()[0]
    assert events == 1
    # The room is free again for someone at the door.
    usecases.create_booking(store, later, agent(place, 2), {
        "resource_id": place.rooms[0], "start": later.isoformat(), "end": (later + timedelta(minutes=15)).isoformat()})


def test_desks_are_not_released_by_default(store, place, booking_db_url):
    with psycopg.connect(booking_db_url) as conn:
        conn.execute("DELETE FROM booking_rule WHERE site_id = %s AND resource_kind = 'desk'", (place.site_id,))
    start = paris_at(2, 10)
    booking = usecases.create_booking(store, now(), agent(place, 0), {
        "resource_id": place.desks[3], "start": start.isoformat(),
        "end": (start + timedelta(hours=2)).isoformat()})["booking"]
    usecases.release_no_shows(store, start + timedelta(minutes=90))
    assert usecases.get_booking(store, agent(place, 0), booking["id"])["status"] == "confirmed"
