"""Desks released at the site's check-in deadline ("check in by 10:00") by
the release timer: once whatever the number of booking processes, never a
checked-in booking, never a booking that starts after the deadline."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import psycopg
import pytest

from booking import catalogue, usecases
from booking.domain import errors
from booking.domain.access import Actor
from tests.support.clock import paris_at

pytestmark = pytest.mark.integration

ADMIN = Actor(person_id=None, role="admin")


def agent(place, n):
    return Actor(person_id=place.people[n], role="agent")


def desk(store, place, n, start, end):
    return usecases.create_booking(store, start - timedelta(days=1), agent(place, n), {
        "resource_id": place.desks[n], "start": start.isoformat(), "end": end.isoformat()})["booking"]


def status(store, place, n, booking):
    return usecases.get_booking(store, agent(place, n), booking["id"])["status"]


def test_the_deadline_is_a_site_rule_kept_and_returned(store, place):
    saved = catalogue.set_rules(store, ADMIN, place.site_id, "desk",
                                {"checkin_deadline": "10:00", "release_after_minutes": 0})
    assert saved["checkin_deadline"] == "10:00"
    assert catalogue.get_rules(store, place.site_id)["desk"]["checkin_deadline"] == "10:00"
    assert catalogue.get_rules(store, place.site_id)["room"]["checkin_deadline"] is None
    with pytest.raises(errors.Invalid):
        catalogue.set_rules(store, ADMIN, place.site_id, "desk", {"checkin_deadline": "25:00"})
    cleared = catalogue.set_rules(store, ADMIN, place.site_id, "desk", {"checkin_deadline": None})
    assert cleared["checkin_deadline"] is None


def test_unchecked_desks_are_released_at_the_deadline_once_and_checked_in_ones_never(
        store, place, booking_db_url):
    catalogue.set_rules(store, ADMIN, place.site_id, "desk",
                        {"checkin_deadline": "10:00", "release_after_minutes": 0})
    day_start, day_end = paris_at(1, 8), paris_at(1, 18)
    ghost = desk(store, place, 0, day_start, day_end)
    present = desk(store, place, 1, day_start, day_end)
    afternoon = desk(store, place, 2, paris_at(1, 13), day_end)
    usecases.check_in(store, paris_at(1, 9, 15), agent(place, 1), present["id"])

    usecases.release_no_shows(store, paris_at(1, 9, 59))
    assert status(store, place, 0, ghost) == "confirmed"

    with ThreadPoolExecutor(4) as pool:  # four booking processes' timers at once
        list(pool.map(lambda _: usecases.release_no_shows(store, paris_at(1, 10)), range(4)))
    assert status(store, place, 0, ghost) == "released"
    assert status(store, place, 1, present) == "checked_in"
    usecases.release_no_shows(store, paris_at(1, 15))
    assert status(store, place, 2, afternoon) == "confirmed"  # it started after the deadline
    with psycopg.connect(booking_db_url) as conn:
        released = conn.execute(
            "SELECT count(*) FROM outbox WHERE event_type = 'booking.released' "
            "AND payload->'booking'->>'id' = %s", (ghost["id"],)).fetchone()[0]
    assert released == 1


def test_the_deadline_applies_on_each_bookings_own_day(store, place):
    catalogue.set_rules(store, ADMIN, place.site_id, "desk",
                        {"checkin_deadline": "10:00", "release_after_minutes": 0})
    tomorrow = desk(store, place, 0, paris_at(2, 8), paris_at(2, 12))
    usecases.release_no_shows(store, paris_at(1, 11))  # the day before, past 10:00
    assert status(store, place, 0, tomorrow) == "confirmed"
    usecases.release_no_shows(store, paris_at(2, 10, 1))
    assert status(store, place, 0, tomorrow) == "released"
