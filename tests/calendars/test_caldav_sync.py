"""Two-way calendar sync against a real Radicale server.

The "Thunderbird side" writes and reads Radicale over plain HTTP (tests'
own helpers); the Escale side is the booking use cases and the sync engine
on the run's own PostgreSQL database. Each test has its own site, rooms and
calendars.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import psycopg
import pytest
from psycopg.rows import dict_row

from booking import usecases
from booking.adapters.db import open_pool
from booking.adapters.store import BookingStore
from booking.calendars import usecases as calendars
from booking.domain import errors
from booking.domain.access import Actor
from tests.support.data import make_place
from tests.support.radicale import ical_event
from tests.support.servers import create_database, drop_database

pytestmark = pytest.mark.integration

ADMIN = Actor(person_id=None, role="admin")


@pytest.fixture(scope="module")
def calendar_db_url(run_id):
    """A booking database of this module's own: hundreds of meetings imported
    here must not show in other tests' day-wide queries on the run's database."""
    from booking.adapters.migrate import upgrade

    name = f"escale_test_{run_id}_calendars"
    url = create_database(name)
    upgrade(url)
    yield url
    drop_database(name)


@pytest.fixture(scope="module")
def store(calendar_db_url):
    pool = open_pool(calendar_db_url, 10)
    yield BookingStore(pool)
    pool.close()


@pytest.fixture(scope="module")
def backends():
    return calendars.BackendPool(env={})


class Site:
    """A site connected to Radicale, its rooms mapped to fresh calendars."""

    def __init__(self, db_url, store, backends, radicale, rooms=1):
        self.db_url, self.store, self.backends, self.radicale = db_url, store, backends, radicale
        self.place = make_place(db_url, desks=0, rooms=rooms, people=3)
        calendars.set_connection(store, ADMIN, self.place.site_id,
                                 {"backend": "caldav", "url": radicale.url, "interval_seconds": 3600})
        self.calendars = []
        for room in self.place.rooms:
            ref = radicale.new_calendar()
            calendars.map_room(store, ADMIN, room, ref)
            self.calendars.append(ref)

    @property
    def room(self):
        return self.place.rooms[0]

    @property
    def calendar(self):
        return self.calendars[0]

    def sync(self) -> dict:
        return calendars.sync_now(self.store, self.backends, datetime.now(timezone.utc), ADMIN,
                                  self.place.site_id)

    def bookings(self, status=("confirmed", "checked_in"), room=None) -> list[dict]:
        with psycopg.connect(self.db_url, row_factory=dict_row) as conn:
            return conn.execute(
                "SELECT id::text, person_id::text, lower(during) AS start, upper(during) AS \"end\", "
                "title, source, status, created_at FROM booking WHERE resource_id = %s AND status = ANY(%s) "
                "ORDER BY lower(during)", (room or self.room, list(status))).fetchall()

    def outbox(self, event_type: str) -> list[dict]:
        with psycopg.connect(self.db_url, row_factory=dict_row) as conn:
            rows = conn.execute("SELECT payload FROM outbox WHERE event_type = %s ORDER BY id",
                                (event_type,)).fetchall()
        return [r["payload"] for r in rows]

    def book(self, start, end, person=0, title="Point équipe") -> dict:
        actor = Actor(person_id=self.place.people[person], role="agent")
        return usecases.create_booking(self.store, datetime.now(timezone.utc), actor,
                                       {"resource_id": self.room, "start": start.isoformat(),
                                        "end": end.isoformat(), "title": title})["booking"]


@pytest.fixture
def site(calendar_db_url, store, backends, radicale):
    return Site(calendar_db_url, store, backends, radicale)


def slot(days=1, hour=10, minutes=60):
    base = (datetime.now(timezone.utc) + timedelta(days=days)).replace(hour=hour, minute=0, second=0,
                                                                       microsecond=0)
    return base, base + timedelta(minutes=minutes)


def test_meeting_made_in_the_calendar_blocks_the_room(site, radicale):
    start, end = slot()
    radicale.put(site.calendar, "m1", ical_event("m1@thunderbird", start, end, "Comité de pilotage",
                                                 organiser=site.place.emails[1].upper()))
    run = site.sync()
    assert run["status"] == "ok" and run["counts"]["created"] == 1
    [booking] = site.bookings()
    assert (booking["start"], booking["end"]) == (start, end)
    assert booking["source"] == "calendar" and booking["title"] == "Comité de pilotage"
    assert booking["person_id"] == site.place.people[1]  # the organiser, matched by e-mail
    with pytest.raises(errors.ResourceAlreadyBooked):
        site.book(start + timedelta(minutes=30), end + timedelta(minutes=30))
    # A second round changes nothing and writes nothing back into the calendar.
    again = site.sync()
    assert again["counts"]["created"] == 0 and again["counts"]["pushed"] == 0
    assert list(radicale.events(site.calendar)) == [f"{site.calendar}m1.ics"]


def test_meeting_of_someone_unknown_still_blocks_the_room(site, radicale):
    start, end = slot(hour=14)
    radicale.put(site.calendar, "ext", ical_event("ext@partner", start, end, organiser="visiteur@ailleurs.example"))
    run = site.sync()
    assert run["counts"]["created"] == 1, str(run["counts"])
    [booking] = site.bookings()
    assert booking["person_id"] is None and booking["source"] == "calendar"


def test_escale_booking_appears_in_the_room_calendar_once_and_leaves_when_cancelled(site, radicale):
    start, end = slot(days=2, hour=9)
    booking = site.book(start, end, title="Atelier budget")
    run = site.sync()
    assert run["counts"]["pushed"] == 1
    [(href, data)] = radicale.events(site.calendar).items()
    assert f"UID:booking-{booking['id']}@escale" in data
    assert f"X-ESCALE-BOOKING-ID:{booking['id']}" in data and "SUMMARY:Atelier budget" in data
    # Its echo in the next REPORT is recognised: no second booking, nothing written again.
    echo = site.sync()
    assert echo["counts"]["created"] == 0 and echo["counts"]["pushed"] == 0
    assert [b["id"] for b in site.bookings()] == [booking["id"]]
    usecases.cancel_booking(site.store, datetime.now(timezone.utc),
                            Actor(person_id=site.place.people[0], role="agent"), booking["id"])
    gone = site.sync()
    assert gone["counts"]["removed_remote"] == 1
    assert radicale.events(site.calendar) == {}
    assert site.sync()["counts"]["cancelled"] == 0  # the deletion's echo cancels nothing more


def test_moving_and_cancelling_in_the_calendar_moves_and_cancels_the_booking(site, radicale):
    start, end = slot(hour=8)
    radicale.put(site.calendar, "mv", ical_event("mv@tb", start, end, "Revue"))
    site.sync()
    [before] = site.bookings()
    later = (start + timedelta(hours=3), end + timedelta(hours=4))
    radicale.put(site.calendar, "mv", ical_event("mv@tb", *later, "Revue déplacée"))
    run = site.sync()
    assert run["counts"]["moved"] == 1
    [after] = site.bookings()
    assert after["id"] == before["id"] and (after["start"], after["end"]) == later
    assert after["title"] == "Revue déplacée"
    radicale.delete(f"{site.calendar}mv.ics")
    site.sync()
    assert site.bookings() == []
    assert [b["id"] for b in site.bookings(status=("cancelled",))] == [before["id"]]
    updated = [e for e in site.outbox("booking.updated") if e["booking"]["id"] == before["id"]]
    cancelled = [e for e in site.outbox("booking.cancelled") if e["booking"]["id"] == before["id"]]
    assert len(updated) == 1 and len(cancelled) == 1


def test_escale_booking_moved_in_outlook_moves_in_escale_without_bouncing_back(site, radicale):
    start, end = slot(days=3, hour=13)
    booking = site.book(start, end)
    site.sync()
    [(href, data)] = radicale.events(site.calendar).items()
    moved = data.replace(start.strftime("%Y%m%dT%H%M%SZ"), (start + timedelta(hours=2)).strftime("%Y%m%dT%H%M%SZ"))
    moved = moved.replace(end.strftime("%Y%m%dT%H%M%SZ"), (end + timedelta(hours=2)).strftime("%Y%m%dT%H%M%SZ"))
    radicale.http.put(radicale.url + href, data=moved.encode(), headers={"Content-Type": "text/calendar"})
    run = site.sync()
    assert run["counts"]["moved"] == 1 and run["counts"]["pushed"] == 0
    [after] = site.bookings()
    assert after["id"] == booking["id"] and after["start"] == start + timedelta(hours=2)
    quiet = site.sync()  # no ping-pong: nothing moved, nothing written back
    assert quiet["counts"]["moved"] == 0 and quiet["counts"]["pushed"] == 0
    assert site.bookings()[0]["start"] == start + timedelta(hours=2)


def test_conflict_the_earlier_calendar_meeting_wins_and_the_escale_booker_is_told(site, radicale):
    start, end = slot(days=4, hour=10)
    booking = site.book(start, end, person=2, title="Booked in Escale")
    yesterday = datetime.now(timezone.utc) - timedelta(days=1)
    radicale.put(site.calendar, "c1", ical_event("c1@tb", start, end, "Made earlier in Outlook",
                                                 organiser=site.place.emails[0], created=yesterday))
    run = site.sync()
    assert run["counts"]["conflicts"] == 1
    [kept] = site.bookings()
    assert kept["source"] == "calendar" and kept["person_id"] == site.place.people[0]
    assert booking["id"] in [b["id"] for b in site.bookings(status=("cancelled",))]
    [event] = [e for e in site.outbox("calendar.conflict") if e["cancelled"]["booking_id"] == booking["id"]]
    assert event["cancelled"]["side"] == "escale"
    assert event["cancelled"]["person"]["id"] == site.place.people[2]
    assert event["kept"]["side"] == "calendar" and event["resource"]["id"] == site.room
    # The calendar keeps the meeting; Escale's booking was never written there.
    assert list(radicale.events(site.calendar)) == [f"{site.calendar}c1.ics"]


def test_conflict_the_earlier_escale_booking_wins_and_the_organiser_is_told(site, radicale):
    start, end = slot(days=5, hour=11)
    booking = site.book(start, end)
    later = datetime.now(timezone.utc) + timedelta(minutes=5)
    radicale.put(site.calendar, "c2", ical_event("c2@tb", start + timedelta(minutes=30), end, "Too late",
                                                 organiser="organiser@partner.example", created=later))
    run = site.sync()
    assert run["counts"]["conflicts"] == 1
    assert [b["id"] for b in site.bookings()] == [booking["id"]]
    [event] = [e for e in site.outbox("calendar.conflict") if e["kept"].get("booking_id") == booking["id"]]
    assert event["cancelled"]["side"] == "calendar"
    assert event["cancelled"]["organiser_email"] == "organiser@partner.example"
    # The losing meeting left the room's calendar; Escale's booking took its place there.
    events = radicale.events(site.calendar)
    assert f"{site.calendar}c2.ics" not in events
    assert any(f"booking-{booking['id']}@escale" in data for data in events.values())
    assert site.sync()["counts"]["conflicts"] == 0


def test_refused_sync_token_means_a_full_resync(site, radicale):
    first, second = slot(days=6, hour=9), slot(days=6, hour=15)
    radicale.put(site.calendar, "t1", ical_event("t1@tb", *first))
    site.sync()
    radicale.forget_sync_tokens(site.calendar)
    radicale.delete(f"{site.calendar}t1.ics")
    radicale.put(site.calendar, "t2", ical_event("t2@tb", *second))
    run = site.sync()
    assert run["status"] == "ok" and run["counts"]["full_resyncs"] == 1
    [booking] = site.bookings()
    assert (booking["start"], booking["end"]) == second  # t1 cancelled, t2 booked
    assert len(site.bookings(status=("cancelled",))) == 1
    assert site.sync()["counts"]["full_resyncs"] == 0  # the new token is accepted


def test_odd_items_are_handled_or_skipped_without_stopping_the_rest(site, radicale):
    start, end = slot(days=7, hour=9)
    day = start.date()
    radicale.put(site.calendar, "ok", ical_event("ok@tb", start, end, "Normal"))
    radicale.put(site.calendar, "noend", ical_event("noend@tb", start + timedelta(hours=3), None, "No end"))
    radicale.put(site.calendar, "huge", ical_event("huge@tb", start + timedelta(hours=5), end + timedelta(hours=5),
                                                   "Huge", extra="DESCRIPTION:" + "x" * 1_100_000))
    radicale.put(site.calendar, "free", ical_event("free@tb", start + timedelta(hours=6), end + timedelta(hours=6),
                                                   "Free", extra="TRANSP:TRANSPARENT"))
    allday = (f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\nBEGIN:VEVENT\r\nUID:allday@tb\r\n"
              f"DTSTAMP:20260101T000000Z\r\nDTSTART;VALUE=DATE:{(day + timedelta(days=2)).strftime('%Y%m%d')}\r\n"
              f"SUMMARY:Séminaire\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    radicale.put(site.calendar, "allday", allday)
    s0 = start + timedelta(days=10)
    fmt = "%Y%m%dT%H%M%SZ"
    series = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\nBEGIN:VEVENT\r\nUID:daily@tb\r\n"
        f"DTSTAMP:20260101T000000Z\r\nDTSTART:{s0.strftime(fmt)}\r\nDTEND:{(s0 + timedelta(hours=1)).strftime(fmt)}\r\n"
        f"RRULE:FREQ=DAILY;COUNT=4\r\nEXDATE:{(s0 + timedelta(days=1)).strftime(fmt)}\r\nSUMMARY:Daily\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:daily@tb\r\nDTSTAMP:20260101T000000Z\r\n"
        f"RECURRENCE-ID:{(s0 + timedelta(days=2)).strftime(fmt)}\r\n"
        f"DTSTART:{(s0 + timedelta(days=2, hours=4)).strftime(fmt)}\r\n"
        f"DTEND:{(s0 + timedelta(days=2, hours=5)).strftime(fmt)}\r\nSUMMARY:Daily (moved)\r\nEND:VEVENT\r\n"
        "END:VCALENDAR\r\n")
    radicale.put(site.calendar, "daily", series)
    run = site.sync()
    assert run["status"] == "ok"
    reasons = run["counts"]["skip_reasons"]
    assert reasons.get("missing_end") == 1 and reasons.get("too_large") == 1 and reasons.get("transparent") == 1
    titles = [(b["title"], b["start"]) for b in site.bookings()]
    assert ("Normal", start) in titles and not any(t in ("No end", "Huge", "Free") for t, _ in titles)
    # All-day: the site's opening hours that day (this test site opens 00:00-23:59, Paris time).
    paris = ZoneInfo("Europe/Paris")
    [seminar] = [b for b in site.bookings() if b["title"] == "Séminaire"]
    assert (seminar["start"], seminar["end"]) == (
        datetime.combine(day + timedelta(days=2), time(0, 0), tzinfo=paris),
        datetime.combine(day + timedelta(days=2), time(23, 59), tzinfo=paris))
    daily = sorted(b["start"] for b in site.bookings() if b["title"].startswith("Daily"))
    assert daily == [s0, s0 + timedelta(days=2, hours=4), s0 + timedelta(days=3)]
    # An occurrence removed from the series later gives its slot back.
    radicale.put(site.calendar, "daily", series.replace(
        f"EXDATE:{(s0 + timedelta(days=1)).strftime(fmt)}",
        f"EXDATE:{(s0 + timedelta(days=1)).strftime(fmt)},{(s0 + timedelta(days=3)).strftime(fmt)}"))
    site.sync()
    assert sorted(b["start"] for b in site.bookings() if b["title"].startswith("Daily")) == daily[:2]


def test_agent_busy_times_are_published_without_titles(site, radicale):
    personal = radicale.new_calendar("people")
    calendars.map_person(site.store, ADMIN, site.place.people[0], site.place.site_id, personal)
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    radicale.put(personal, "p1", ical_event("p1@tb", now - timedelta(minutes=10), now + timedelta(minutes=50),
                                            "Entretien confidentiel"))
    site.sync()
    mine = [e for e in site.outbox("calendar.busy") if e["person_id"] == site.place.people[0]]
    assert len(mine) == 1
    assert mine[0]["periods"] == [{"start": (now - timedelta(minutes=10)).isoformat(),
                                   "end": (now + timedelta(minutes=50)).isoformat()}]
    assert "confidentiel" not in str(mine[0])
    site.sync()  # unchanged: nothing new published
    assert len([e for e in site.outbox("calendar.busy") if e["person_id"] == site.place.people[0]]) == 1


def test_a_room_calendar_with_500_events_syncs_incrementally(calendar_db_url, store, backends, radicale):
    site = Site(calendar_db_url, store, backends, radicale)
    base = slot(days=1, hour=0)[0]
    for i in range(500):
        start = base + timedelta(hours=i)  # one meeting an hour for ~21 days
        radicale.put(site.calendar, f"e{i}", ical_event(f"e{i}@tb", start, start + timedelta(minutes=45), f"M{i}"))
    first = site.sync()
    assert first["counts"]["created"] == 500 and first["calls"] == 1  # one REPORT carries them all
    idle = site.sync()
    assert idle["counts"]["items"] == 0 and idle["calls"] == 1
    moved_start = base + timedelta(hours=7, minutes=50)
    radicale.put(site.calendar, "e7", ical_event("e7@tb", moved_start, moved_start + timedelta(minutes=5), "M7"))
    one = site.sync()
    assert one["counts"]["items"] == 1 and one["counts"]["moved"] == 1 and one["calls"] == 1
    assert len(site.bookings()) == 500


def test_a_private_room_calendar_never_shows_escale_titles(site, radicale):
    with psycopg.connect(site.db_url) as conn:
        conn.execute("UPDATE resource SET attributes = attributes || '{\"private\": true}' WHERE id = %s",
                     (site.room,))
    start, end = slot(days=8, hour=16)
    site.book(start, end, title="Entretien annuel de M. Dupont")
    site.sync()
    [data] = radicale.events(site.calendar).values()
    assert "Dupont" not in data and "SUMMARY:Escale" in data


def test_a_site_round_runs_on_one_replica_at_a_time(site):
    """Ten workers (as on several booking replicas) claim the same due site at
    once: one gets its lease; nobody else until it is released."""
    from concurrent.futures import ThreadPoolExecutor

    from booking.adapters.calendar_store import CalendarState

    def claim(_):
        with site.store.unit(transaction=False) as unit:
            return CalendarState(unit.conn).claim(datetime.now(timezone.utc), calendars.LEASE,
                                                  site_id=site.place.site_id)

    with ThreadPoolExecutor(10) as pool:
        claimed = [c for c in pool.map(claim, range(10)) if c is not None]
    assert len(claimed) == 1
    with pytest.raises(errors.InvalidState):
        site.sync()  # "sync now" while a round holds the lease
    with site.store.unit(transaction=False) as unit:
        CalendarState(unit.conn).release(site.place.site_id)
    assert site.sync()["status"] == "ok"
