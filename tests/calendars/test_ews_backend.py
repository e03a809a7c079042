"""The EWS backend against the EWS protocol replica (tests/support/ews_replica.py).

The replica answers the SOAP messages Microsoft documents for the operations
the backend sends; it is not Exchange. What these tests show is that the
backend sends those operations, reads their answers and error answers as
documented, and turns them into the port's values and errors.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest
from booking import usecases
from booking.adapters.db import open_pool
from booking.adapters.store import BookingStore
from booking.calendars import usecases as calendars
from booking.calendars.backend import (
    BackendAuthError,
    BackendConfig,
    BackendUnavailable,
    CalendarNotFound,
    Credentials,
    OutgoingItem,
    SyncTokenInvalid,
    booking_uid,
    build_backend,
)
from booking.domain import errors
from booking.domain.access import Actor
from lxml import etree

from tests.support.data import make_place

pytestmark = pytest.mark.integration

ROOM = "salle-seine@example.org"
AGENT = "camille.martin@example.org"
T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
ADMIN = Actor(person_id=None, role="admin")


@pytest.fixture
def backend(ews_replica):
    return build_backend(
        BackendConfig(
            name="ews", url=ews_replica.url, options={"auth_type": "none", "page_size": 50}
        )
    )


def booking(start: datetime, hours: int = 1, title: str = "Réunion Escale") -> OutgoingItem:
    booking_id = str(uuid.uuid4())
    return OutgoingItem(
        booking_id=booking_id,
        uid=booking_uid(booking_id),
        start=start,
        end=start + timedelta(hours=hours),
        title=title,
        time_zone="Europe/Paris",
    )


def by_id(change_set):
    return {item.remote_id: item for item in change_set.items}


def test_outlook_meeting_listed_then_moved_then_cancelled_incrementally(ews_replica, backend):
    meeting = ews_replica.add_meeting(
        ROOM, "Comité", T0, T0 + timedelta(hours=1), organizer="chef@example.org"
    )

    first = backend.changes(ROOM, None)
    assert first.full and first.next_token
    item = by_id(first)[meeting]
    assert (item.start, item.end, item.title) == (T0, T0 + timedelta(hours=1), "Comité")
    assert item.organiser_email == "chef@example.org" and item.escale_booking_id is None

    quiet = backend.changes(ROOM, first.next_token)
    assert (quiet.items, quiet.deleted_ids, quiet.full) == ([], [], False)

    ews_replica.move_meeting(meeting, T0 + timedelta(hours=3), T0 + timedelta(hours=4))
    moved = backend.changes(ROOM, quiet.next_token)
    assert [(i.remote_id, i.start) for i in moved.items] == [(meeting, T0 + timedelta(hours=3))]

    ews_replica.cancel_meeting(meeting)
    cancelled = backend.changes(ROOM, moved.next_token)
    assert cancelled.items == [] and cancelled.deleted_ids == [meeting]


def test_a_large_calendar_is_read_in_pages_within_one_round(ews_replica):
    backend = build_backend(
        BackendConfig(
            name="ews", url=ews_replica.url, options={"auth_type": "none", "page_size": 2}
        )
    )
    ids = {
        ews_replica.add_meeting(
            ROOM, f"M{n}", T0 + timedelta(hours=n), T0 + timedelta(hours=n, minutes=30)
        )
        for n in range(5)
    }
    change_set = backend.changes(ROOM, None)
    assert set(by_id(change_set)) == ids
    assert ews_replica.operations().count("SyncFolderItems") == 3
    assert backend.calls == len(ews_replica.calls)


def test_refused_sync_state_raises_and_a_full_listing_recovers(ews_replica, backend):
    meeting = ews_replica.add_meeting(ROOM, "Point", T0, T0 + timedelta(hours=1))
    token = backend.changes(ROOM, None).next_token
    ews_replica.expire_sync_states()

    with pytest.raises(SyncTokenInvalid):
        backend.changes(ROOM, token)
    again = backend.changes(ROOM, None)
    assert again.full and meeting in by_id(again)
    assert backend.changes(ROOM, again.next_token).items == []


def test_throttling_surfaces_the_servers_back_off(ews_replica, backend):
    backend.changes(ROOM, None)
    ews_replica.throttle(back_off_ms=29_500)
    with pytest.raises(BackendUnavailable) as raised:
        backend.changes(ROOM, None)
    assert raised.value.retry_after == pytest.approx(29.5)
    # Nothing slept inside exchangelib, and the next round goes through.
    assert backend.changes(ROOM, None).full


def test_refused_credentials_are_an_auth_error(ews_replica):
    backend = build_backend(
        BackendConfig(
            name="ews",
            url=ews_replica.url,
            credentials_ref="hq-exchange",
            options={"auth_type": "basic"},
        ),
        env={
            "ESCALE_CALENDAR_HQ_EXCHANGE_USERNAME": "svc-escale",
            "ESCALE_CALENDAR_HQ_EXCHANGE_PASSWORD": "wrong",
        },
    )
    ews_replica.deny_credentials()
    with pytest.raises(BackendAuthError) as raised:
        backend.changes(ROOM, None)
    assert "wrong" not in str(raised.value)
    assert len(ews_replica.calls) == 1  # a login failure is not retried


def test_a_mailbox_outside_the_impersonation_scope_is_an_auth_error(ews_replica, backend):
    ews_replica.not_impersonable.add(ROOM)
    with pytest.raises(BackendAuthError):
        backend.changes(ROOM, None)


def test_an_address_with_no_mailbox_is_a_mapping_to_fix(ews_replica, backend):
    ews_replica.unknown_mailboxes.add(ROOM)
    with pytest.raises(CalendarNotFound):
        backend.changes(ROOM, None)
    with pytest.raises(CalendarNotFound):
        backend.busy(ROOM, T0, T0 + timedelta(hours=8))


def test_missing_password_fails_at_start_with_the_variable_to_set():
    with pytest.raises(ValueError, match="ESCALE_CALENDAR_HQ_EXCHANGE_USERNAME"):
        build_backend(
            BackendConfig(
                name="ews",
                url="https://mail.example.org/EWS/Exchange.asmx",
                credentials=Credentials(username="svc"),
                credentials_ref="hq-exchange",
            )
        )


def test_escale_bookings_are_written_marked_and_recognised(ews_replica, backend):
    token = backend.changes(ROOM, None).next_token
    outgoing = booking(T0 + timedelta(hours=2))
    ref = backend.put(ROOM, outgoing, None)

    [stored] = ews_replica.items(ROOM)
    assert stored["uid"] == outgoing.uid
    assert stored["extended"] == {"X-ESCALE-BOOKING-ID": outgoing.booking_id}
    assert stored["start"] == outgoing.start and stored["subject"] == "Réunion Escale"
    # Written straight into the room's calendar through impersonation, no invitation sent.
    create = next(c for c in ews_replica.calls if c.operation == "CreateItem")
    assert create.impersonated == ROOM
    assert b'SendMeetingInvitations="SendToNone"' in create.body

    echo = by_id(backend.changes(ROOM, token))[ref.remote_id]
    assert echo.escale_booking_id == outgoing.booking_id
    assert echo.uid == outgoing.uid


def test_an_item_with_only_the_marker_is_still_recognised(ews_replica, backend):
    """A client that rewrote the UID (some do on copy) keeps the extended property."""
    outgoing = booking(T0)
    ref = backend.put(ROOM, outgoing, None)
    item = ews_replica._items[ref.remote_id]
    item.elem.find(
        "{http://schemas.microsoft.com/exchange/services/2006/types}UID"
    ).text = "OTHER-UID"
    assert (
        by_id(backend.changes(ROOM, None))[ref.remote_id].escale_booking_id == outgoing.booking_id
    )


def test_moving_a_booking_updates_the_same_item_and_a_vanished_one_is_recreated(
    ews_replica, backend
):
    outgoing = booking(T0)
    ref = backend.put(ROOM, outgoing, None)
    moved = OutgoingItem(
        **{
            **outgoing.__dict__,
            "start": T0 + timedelta(days=1),
            "end": T0 + timedelta(days=1, hours=2),
            "sequence": 1,
        }
    )
    again = backend.put(ROOM, moved, ref.remote_id)
    assert again.remote_id == ref.remote_id
    [stored] = ews_replica.items(ROOM)
    assert (stored["start"], stored["end"]) == (moved.start, moved.end)

    ews_replica.cancel_meeting(ref.remote_id)  # someone deleted it in Outlook
    recreated = backend.put(ROOM, moved, ref.remote_id)
    assert recreated.remote_id != ref.remote_id
    assert [i["id"] for i in ews_replica.items(ROOM)] == [recreated.remote_id]


def test_delete_removes_the_booking_and_tolerates_an_item_already_gone(ews_replica, backend):
    ref = backend.put(ROOM, booking(T0), None)
    backend.delete(ROOM, ref.remote_id)
    assert ews_replica.items(ROOM) == []
    backend.delete(ROOM, ref.remote_id)  # ErrorItemNotFound is not an error here


def test_busy_times_come_without_titles(ews_replica, backend):
    ews_replica.add_meeting(AGENT, "Entretien annuel confidentiel", T0, T0 + timedelta(hours=1))
    ews_replica.add_meeting(
        AGENT, "Pause", T0 + timedelta(hours=2), T0 + timedelta(hours=3), free=True
    )
    ews_replica.add_meeting(
        AGENT, "Demain", T0 + timedelta(days=1), T0 + timedelta(days=1, hours=1)
    )

    periods = backend.busy(AGENT, T0 - timedelta(hours=1), T0 + timedelta(hours=12))
    assert [(p.start, p.end) for p in periods] == [(T0, T0 + timedelta(hours=1))]
    # The FreeBusy view: Exchange sends no subject at all, so none can leak.
    request = next(c for c in ews_replica.calls if c.operation == "GetUserAvailability")
    view = etree.fromstring(request.body).find(".//{*}RequestedView").text
    assert view == "FreeBusy"
    assert b"Entretien" not in request.body


def test_a_broken_item_is_skipped_with_a_reason_and_the_rest_syncs(ews_replica, backend):
    good = ews_replica.add_meeting(ROOM, "Bon", T0, T0 + timedelta(hours=1))
    broken = ews_replica.add_broken_item(ROOM)
    later = ews_replica.add_meeting(ROOM, "Après", T0 + timedelta(hours=2), T0 + timedelta(hours=3))

    change_set = backend.changes(ROOM, None)
    assert set(by_id(change_set)) == {good, later}
    assert [(s.remote_id, s.reason) for s in change_set.skipped] == [(broken, "unreadable_start")]


def test_a_recurring_series_comes_as_icalendar_for_the_engine(ews_replica, backend):
    ical = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:Microsoft Exchange Server 2016\r\nBEGIN:VEVENT\r\n"
        "UID:weekly-1\r\nDTSTART:20261124T090000Z\r\nDTEND:20261124T100000Z\r\n"
        "RRULE:FREQ=WEEKLY;COUNT=4\r\nSUMMARY:Hebdo\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    series = ews_replica.add_meeting(
        ROOM, "Hebdo", T0, T0 + timedelta(hours=1), uid="weekly-1", recurrence_ical=ical
    )
    [item] = backend.changes(ROOM, None).items
    assert item.remote_id == series
    assert "RRULE:FREQ=WEEKLY;COUNT=4" in item.ical
    assert ews_replica.operations()[-1] == "GetItem"


def test_an_all_day_item_spans_its_days_in_the_organisers_zone(ews_replica, backend):
    paris = ZoneInfo("Europe/Paris")
    first = datetime(2026, 11, 24, tzinfo=paris)
    ews_replica.add_meeting(
        ROOM,
        "Séminaire",
        first,
        first + timedelta(days=2),
        all_day=True,
        time_zone="Romance Standard Time",
    )
    [item] = backend.changes(ROOM, None).items
    assert item.all_day and item.timezone == "Europe/Paris"
    assert (item.start, item.end) == (first, first + timedelta(days=2))


def test_delegate_access_sends_no_impersonation_header(ews_replica):
    backend = build_backend(
        BackendConfig(
            name="ews",
            url=ews_replica.url,
            options={"auth_type": "none", "access_type": "delegate"},
        )
    )
    backend.changes(ROOM, None)
    assert {c.impersonated for c in ews_replica.calls} == {None}
    assert {c.anchor for c in ews_replica.calls} == {ROOM}


# --- through the sync engine ---------------------------------------------------------------


@pytest.fixture(scope="module")
def store(booking_db_url):
    pool = open_pool(booking_db_url, 5)
    yield BookingStore(pool)
    pool.close()


def test_engine_room_meeting_in_exchange_blocks_the_room_and_escale_bookings_appear_in_exchange(
    booking_db_url, store, ews_replica
):
    place = make_place(booking_db_url, desks=0, rooms=1, people=2)
    mailbox = f"salle-{uuid.uuid4().hex[:8]}@example.org"
    calendars.set_connection(
        store,
        ADMIN,
        place.site_id,
        {
            "backend": "ews",
            "url": ews_replica.url,
            "options": {"auth_type": "none"},
            "interval_seconds": 3600,
        },
    )
    calendars.map_room(store, ADMIN, place.rooms[0], mailbox)
    backends = calendars.BackendPool(env={})

    def sync():
        return calendars.sync_now(store, backends, datetime.now(UTC), ADMIN, place.site_id)

    start = (datetime.now(UTC) + timedelta(days=1)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    meeting = ews_replica.add_meeting(
        mailbox, "Comité de direction", start, start + timedelta(hours=1), organizer=place.emails[1]
    )
    run = sync()
    assert run["status"] == "ok" and run["counts"]["created"] == 1, run
    agent = Actor(person_id=place.people[0], role="agent")
    with pytest.raises(errors.ResourceAlreadyBooked):
        usecases.create_booking(
            store,
            datetime.now(UTC),
            agent,
            {
                "resource_id": place.rooms[0],
                "start": (start + timedelta(minutes=30)).isoformat(),
                "end": (start + timedelta(hours=2)).isoformat(),
                "title": "Trop tard",
            },
        )

    later = start + timedelta(hours=3)
    made = usecases.create_booking(
        store,
        datetime.now(UTC),
        agent,
        {
            "resource_id": place.rooms[0],
            "start": later.isoformat(),
            "end": (later + timedelta(hours=1)).isoformat(),
            "title": "Atelier",
        },
    )["booking"]
    assert sync()["counts"]["pushed"] == 1
    written = [i for i in ews_replica.items(mailbox) if i["id"] != meeting]
    assert [(i["uid"], i["start"], i["extended"]) for i in written] == [
        (booking_uid(made["id"]), later, {"X-ESCALE-BOOKING-ID": made["id"]})
    ]
    echo = sync()["counts"]
    assert echo["created"] == 0 and echo["pushed"] == 0  # its echo is recognised


EXCHANGE_SERIES = """BEGIN:VCALENDAR
METHOD:PUBLISH
PRODID:Microsoft Exchange Server 2010
VERSION:2.0
BEGIN:VTIMEZONE
TZID:Romance Standard Time
BEGIN:STANDARD
DTSTART:16010101T030000
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:16010101T020000
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3
END:DAYLIGHT
END:VTIMEZONE
BEGIN:VEVENT
ORGANIZER;CN=Chef:mailto:{organiser}
RRULE:FREQ=WEEKLY;COUNT=4;INTERVAL=1;BYDAY={weekday};WKST=MO
EXDATE;TZID=Romance Standard Time:{third}T100000
UID:040000008200E00074C5B7101A82E00800000000A1B2C3D4E5F6
SUMMARY;LANGUAGE=fr-FR:Point hebdo
DTSTART;TZID=Romance Standard Time:{first}T100000
DTEND;TZID=Romance Standard Time:{first}T110000
CLASS:PUBLIC
DTSTAMP:20261120T090000Z
TRANSP:OPAQUE
STATUS:CONFIRMED
SEQUENCE:0
X-MICROSOFT-CDO-BUSYSTATUS:BUSY
END:VEVENT
BEGIN:VEVENT
ORGANIZER;CN=Chef:mailto:{organiser}
RECURRENCE-ID;TZID=Romance Standard Time:{second}T100000
UID:040000008200E00074C5B7101A82E00800000000A1B2C3D4E5F6
SUMMARY;LANGUAGE=fr-FR:Point hebdo (déplacé)
DTSTART;TZID=Romance Standard Time:{second}T140000
DTEND;TZID=Romance Standard Time:{second}T150000
DTSTAMP:20261120T090000Z
SEQUENCE:1
END:VEVENT
END:VCALENDAR
""".replace("\n", "\r\n")


def test_engine_exchange_series_with_a_moved_and_a_cancelled_occurrence_blocks_the_right_slots(
    booking_db_url, store, ews_replica
):
    """A weekly Outlook series as Exchange's MimeContent gives it (Windows zone, VTIMEZONE)."""
    place = make_place(booking_db_url, desks=0, rooms=1, people=2)
    mailbox = f"salle-{uuid.uuid4().hex[:8]}@example.org"
    calendars.set_connection(
        store,
        ADMIN,
        place.site_id,
        {
            "backend": "ews",
            "url": ews_replica.url,
            "options": {"auth_type": "none"},
            "interval_seconds": 3600,
        },
    )
    calendars.map_room(store, ADMIN, place.rooms[0], mailbox)
    paris = ZoneInfo("Europe/Paris")
    first = (datetime.now(paris) + timedelta(days=2)).date()
    days = [first + timedelta(weeks=n) for n in range(4)]
    ical = EXCHANGE_SERIES.format(
        organiser=place.emails[1],
        weekday=("MO", "TU", "WE", "TH", "FR", "SA", "SU")[first.weekday()],
        first=days[0].strftime("%Y%m%d"),
        second=days[1].strftime("%Y%m%d"),
        third=days[2].strftime("%Y%m%d"),
    )
    at = lambda day, hour: datetime.combine(day, datetime.min.time(), tzinfo=paris).replace(
        hour=hour
    )
    ews_replica.add_meeting(
        mailbox,
        "Point hebdo",
        at(days[0], 10),
        at(days[0], 11),
        uid="040000008200E00074C5B7101A82E00800000000A1B2C3D4E5F6",
        recurrence_ical=ical,
        time_zone="Romance Standard Time",
    )

    run = calendars.sync_now(
        store, calendars.BackendPool(env={}), datetime.now(UTC), ADMIN, place.site_id
    )
    assert run["status"] == "ok", run
    with psycopg.connect(booking_db_url) as conn:
        rows = conn.execute(
            "SELECT lower(during), upper(during) FROM booking WHERE resource_id = %s "
            "AND status = 'confirmed' ORDER BY lower(during)",
            (place.rooms[0],),
        ).fetchall()
    assert rows == [
        (at(days[0], 10), at(days[0], 11)),
        (at(days[1], 14), at(days[1], 15)),
        (at(days[3], 10), at(days[3], 11)),
    ]
