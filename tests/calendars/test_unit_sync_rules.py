"""Calendar sync rules without I/O: reading items, series, conflicts, pushes, the registry."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import icalendar
import pytest

from booking.calendars import backend as port
from booking.calendars.caldav import to_ical
from booking.calendars.items import MAX_OCCURRENCES, Window, interpret
from booking.calendars.reconcile import (
    ADOPT, CANCEL, CREATE, DELETE, IGNORE, MOVE, NOTHING, PUT, TOUCH, Link, decide_pull, decide_push,
    remote_wins,
)

pytestmark = pytest.mark.unit

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)
WINDOW = Window(start=NOW, end=NOW + timedelta(days=30), site_tz="Europe/Paris",
                opening=time(7, 30), closing=time(20, 0))
BOOKING_ID = "0b1c2d3e-0000-4000-8000-000000000001"


def vevent(*lines: str, uid: str = "u1@tb") -> str:
    body = "\r\n".join(lines)
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\nBEGIN:VEVENT\r\n"
            f"UID:{uid}\r\nDTSTAMP:20261120T100000Z\r\n{body}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")


def item(ical: str, **kw) -> port.RemoteItem:
    return port.RemoteItem(remote_id="/cal/u1.ics", etag='"e1"', ical=ical, size=len(ical), **kw)


def test_a_plain_meeting_becomes_one_occurrence_with_its_organiser_and_creation_time():
    reading = interpret(item(vevent("DTSTART;TZID=Europe/Paris:20261124T100000",
                                    "DTEND;TZID=Europe/Paris:20261124T110000", "SUMMARY:Revue",
                                    "ORGANIZER;CN=Alice:mailto:Alice@Mairie.fr", "CREATED:20261101T090000Z")),
                         WINDOW)
    [occ] = reading.occurrences
    assert (occ.start, occ.end) == (datetime(2026, 11, 24, 10, tzinfo=PARIS), datetime(2026, 11, 24, 11, tzinfo=PARIS))
    assert occ.key == "" and occ.title == "Revue" and occ.organiser_email == "alice@mairie.fr"
    assert occ.created == datetime(2026, 11, 1, 9, tzinfo=timezone.utc) and not reading.series


def test_no_end_blocks_nothing_and_is_skipped():
    reading = interpret(item(vevent("DTSTART:20261124T100000Z")), WINDOW)
    assert reading.occurrences == [] and [s.reason for s in reading.skips] == ["missing_end"]


def test_duration_instead_of_end_is_understood():
    [occ] = interpret(item(vevent("DTSTART:20261124T100000Z", "DURATION:PT90M")), WINDOW).occurrences
    assert occ.end - occ.start == timedelta(minutes=90)


def test_unknown_time_zone_is_skipped_but_a_windows_zone_name_is_understood():
    unknown = interpret(item(vevent("DTSTART;TZID=Mars/Olympus:20261124T100000",
                                    "DTEND;TZID=Mars/Olympus:20261124T110000")), WINDOW)
    assert [s.reason for s in unknown.skips] == ["unknown_timezone"] and unknown.occurrences == []
    [occ] = interpret(item(vevent("DTSTART;TZID=W. Europe Standard Time:20261124T100000",
                                  "DTEND;TZID=W. Europe Standard Time:20261124T110000")), WINDOW).occurrences
    assert occ.start.astimezone(timezone.utc) == datetime(2026, 11, 24, 9, tzinfo=timezone.utc)


def test_floating_time_is_read_in_the_site_time_zone():
    [occ] = interpret(item(vevent("DTSTART:20261124T100000", "DTEND:20261124T110000")), WINDOW).occurrences
    assert occ.start == datetime(2026, 11, 24, 10, tzinfo=PARIS)


def test_all_day_items_block_opening_hours_and_free_ones_block_nothing():
    [occ] = interpret(item(vevent("DTSTART;VALUE=DATE:20261125", "DTEND;VALUE=DATE:20261127")), WINDOW).occurrences
    assert (occ.start, occ.end) == (datetime(2026, 11, 25, 7, 30, tzinfo=PARIS),
                                    datetime(2026, 11, 26, 20, 0, tzinfo=PARIS))
    free = interpret(item(vevent("DTSTART;VALUE=DATE:20261125", "TRANSP:TRANSPARENT")), WINDOW)
    assert free.occurrences == [] and [s.reason for s in free.skips] == ["transparent"]


def test_huge_broken_and_empty_items_are_skipped_with_a_reason():
    huge = vevent("DTSTART:20261124T100000Z", "DTEND:20261124T110000Z", "DESCRIPTION:" + "x" * 1_000_001)
    assert [s.reason for s in interpret(item(huge), WINDOW).skips] == ["too_large"]
    assert [s.reason for s in interpret(item("not iCalendar at all"), WINDOW).skips] == ["unparseable"]
    empty = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\nEND:VCALENDAR\r\n"
    assert [s.reason for s in interpret(item(empty), WINDOW).skips] == ["no_event"]


def test_long_titles_are_cut():
    [occ] = interpret(item(vevent("DTSTART:20261124T100000Z", "DTEND:20261124T110000Z",
                                  "SUMMARY:" + "é" * 500)), WINDOW).occurrences
    assert len(occ.title) == 200


def test_a_series_with_an_exclusion_a_moved_and_a_cancelled_occurrence():
    ical = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\n"
            "BEGIN:VEVENT\r\nUID:s@tb\r\nDTSTAMP:20261120T100000Z\r\n"
            "DTSTART;TZID=Europe/Paris:20261124T100000\r\nDTEND;TZID=Europe/Paris:20261124T110000\r\n"
            "RRULE:FREQ=DAILY;COUNT=5\r\nEXDATE;TZID=Europe/Paris:20261126T100000\r\nSUMMARY:Daily\r\nEND:VEVENT\r\n"
            "BEGIN:VEVENT\r\nUID:s@tb\r\nDTSTAMP:20261120T100000Z\r\n"
            "RECURRENCE-ID;TZID=Europe/Paris:20261125T100000\r\n"
            "DTSTART;TZID=Europe/Paris:20261125T140000\r\nDTEND;TZID=Europe/Paris:20261125T150000\r\n"
            "SUMMARY:Moved\r\nEND:VEVENT\r\n"
            "BEGIN:VEVENT\r\nUID:s@tb\r\nDTSTAMP:20261120T100000Z\r\n"
            "RECURRENCE-ID;TZID=Europe/Paris:20261127T100000\r\nSTATUS:CANCELLED\r\n"
            "DTSTART;TZID=Europe/Paris:20261127T100000\r\nDTEND;TZID=Europe/Paris:20261127T110000\r\n"
            "END:VEVENT\r\nEND:VCALENDAR\r\n")
    reading = interpret(item(ical), WINDOW)
    assert reading.series
    got = [(o.key, o.start.astimezone(PARIS).strftime("%d %H:%M"), o.cancelled) for o in reading.occurrences]
    assert got == [("20261124T090000Z", "24 10:00", False), ("20261125T090000Z", "25 14:00", False),
                   ("20261127T090000Z", "27 10:00", True), ("20261128T090000Z", "28 10:00", False)]


def test_a_series_is_expanded_only_inside_the_horizon_and_capped():
    endless = vevent("DTSTART:20261124T100000Z", "DTEND:20261124T101000Z", "RRULE:FREQ=HOURLY")
    reading = interpret(item(endless), WINDOW)
    assert len(reading.occurrences) <= MAX_OCCURRENCES
    assert all(o.start < WINDOW.end for o in reading.occurrences)
    assert [s.reason for s in reading.skips] == ["too_many_occurrences"]
    daily = interpret(item(vevent("DTSTART:20261124T100000Z", "DTEND:20261124T110000Z", "RRULE:FREQ=DAILY")), WINDOW)
    assert len(daily.occurrences) == 29  # 24 Nov .. 22 Dec, the horizon ends 23 Dec 08:00


def test_escale_items_are_recognised_by_uid_or_marker():
    by_uid = interpret(item(vevent("DTSTART:20261124T100000Z", "DTEND:20261124T110000Z",
                                   uid=f"booking-{BOOKING_ID}@escale")), WINDOW).occurrences[0]
    by_marker = interpret(item(vevent("DTSTART:20261124T100000Z", "DTEND:20261124T110000Z",
                                      f"X-ESCALE-BOOKING-ID:{BOOKING_ID}", uid="rewritten-by-a-server")),
                          WINDOW).occurrences[0]
    assert by_uid.escale_booking_id == by_marker.escale_booking_id == BOOKING_ID
    assert port.booking_id_from_uid("booking-nope@escale") is None


def test_structured_items_from_ews_or_graph():
    start = datetime(2026, 11, 24, 9, tzinfo=timezone.utc)
    ok = port.RemoteItem(remote_id="AAMk1", start=start, end=start + timedelta(hours=1), title="T",
                         organiser_email="Bob@X.fr")
    assert interpret(ok, WINDOW).occurrences[0].organiser_email == "bob@x.fr"
    assert [s.reason for s in interpret(port.RemoteItem(remote_id="a", start=start), WINDOW).skips] == ["missing_end"]
    naive = port.RemoteItem(remote_id="b", start=start.replace(tzinfo=None), end=start.replace(tzinfo=None))
    assert [s.reason for s in interpret(naive, WINDOW).skips] == ["unknown_timezone"]
    allday = port.RemoteItem(remote_id="c", start=start, end=start + timedelta(days=1), all_day=True)
    [occ] = interpret(allday, WINDOW).occurrences
    assert occ.start == datetime(2026, 11, 24, 7, 30, tzinfo=PARIS)


# --- decisions ----------------------------------------------------------------------------

def occ(**kw):
    from booking.calendars.items import Occurrence

    base = dict(remote_id="r", key="", start=NOW + timedelta(days=1), end=NOW + timedelta(days=1, hours=1),
                etag='"2"', title="T")
    return Occurrence(**{**base, **kw})


def link(**kw):
    base = dict(remote_id="r", occurrence="", origin="remote", state="active", etag='"1"', booking_id="b",
                booking_version=1, booking_status="confirmed", start=NOW + timedelta(days=1),
                end=NOW + timedelta(days=1, hours=1), title="T", version=1)
    return Link(**{**base, **kw})


def test_pull_decisions():
    assert decide_pull(occ(), None).action == CREATE
    assert decide_pull(occ(escale_booking_id=BOOKING_ID), None).action == ADOPT
    assert decide_pull(occ(cancelled=True), None).action == IGNORE
    assert decide_pull(occ(etag='"1"'), link()).action == IGNORE  # our own echo, or unchanged
    assert decide_pull(occ(), link()).action == TOUCH  # new etag, same meeting
    assert decide_pull(occ(start=NOW + timedelta(days=2), end=NOW + timedelta(days=2, hours=1)), link()).action == MOVE
    assert decide_pull(occ(title="Renamed"), link()).action == MOVE
    assert decide_pull(occ(title="Renamed"), link(origin="escale")).action == TOUCH  # Escale owns its titles
    assert decide_pull(occ(cancelled=True), link()).action == CANCEL
    assert decide_pull(occ(), link(state="rejected")).action == IGNORE
    assert decide_pull(occ(), link(state="gone")).action == CREATE
    assert decide_pull(occ(), link(booking_status="cancelled")).action == IGNORE


def test_the_earlier_creation_wins_and_a_tie_keeps_the_escale_booking():
    t = NOW
    assert remote_wins(t - timedelta(seconds=1), t + timedelta(days=1), t)
    assert not remote_wins(t + timedelta(seconds=1), t - timedelta(days=1), t)
    assert not remote_wins(t, t, t)
    assert not remote_wins(None, t + timedelta(minutes=1), t)  # unknown creation: when first seen


def test_push_decisions():
    assert decide_push("confirmed", 1, None) == PUT
    assert decide_push("cancelled", 2, None) == NOTHING
    mine = link(origin="escale", booking_version=1)
    assert decide_push("confirmed", 1, mine) == NOTHING
    assert decide_push("confirmed", 2, mine) == PUT  # moved or extended in Escale
    assert decide_push("ended", 2, mine) == PUT  # ended early: the item is shortened
    assert decide_push("cancelled", 2, mine) == DELETE
    theirs = link(origin="remote", booking_version=1)
    assert decide_push("released", 2, theirs) == DELETE  # a no-show gives the room back
    assert decide_push("confirmed", 2, theirs) == NOTHING  # never rewrite the organiser's meeting
    assert decide_push("cancelled", 3, link(origin="escale", state="gone")) == NOTHING


# --- the port and the written items --------------------------------------------------------

def test_credentials_come_from_the_environment_by_reference_and_never_print():
    env = {"ESCALE_CALENDAR_SITE_A_USERNAME": "svc", "ESCALE_CALENDAR_SITE_A_PASSWORD": "s3cret"}
    creds = port.credentials_from_env("site-a", env)
    assert (creds.username, creds.password) == ("svc", "s3cret") and "s3cret" not in repr(creds)
    assert port.credentials_from_env(None, env) == port.Credentials()


def test_registry_builds_by_name_with_a_dry_run_and_refuses_unknown_names():
    calls = []

    class Fake(port.NoneBackend):
        name = "fake"

        def put(self, calendar_ref, item, remote_id):
            calls.append(item)
            return port.RemoteRef("x")

    port.register("fake", Fake)
    try:
        dry = port.build_backend(port.BackendConfig(name="fake", dry_run=True))
        start = NOW
        ref = dry.put("cal", port.OutgoingItem(booking_id=BOOKING_ID, uid=port.booking_uid(BOOKING_ID),
                                               start=start, end=start + timedelta(hours=1), title="T"), None)
        assert calls == [] and ref.uid == port.booking_uid(BOOKING_ID)
        assert isinstance(port.build_backend(port.BackendConfig(name="none")), port.CalendarBackend)
        with pytest.raises(port.UnknownBackend):
            port.build_backend(port.BackendConfig(name="lotus-notes"))
    finally:
        del port.BACKENDS["fake"]


def test_the_item_escale_writes_is_valid_icalendar_and_reads_back_as_escale_s_own():
    start = datetime(2026, 11, 24, 9, tzinfo=timezone.utc)
    title = "Réunion; budget, équipe \\ « DSI » " * 6
    text = to_ical(port.OutgoingItem(booking_id=BOOKING_ID, uid=port.booking_uid(BOOKING_ID), start=start,
                                     end=start + timedelta(hours=1), title=title, sequence=3,
                                     organiser_email="agent@mairie.fr"))
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    event = icalendar.Calendar.from_ical(text).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == title and int(event["SEQUENCE"]) == 3
    [back] = interpret(item(text), WINDOW).occurrences
    assert back.escale_booking_id == BOOKING_ID and back.start == start


def test_caldav_credentials_never_leave_the_configured_server():
    from booking.calendars.caldav import CalDAVBackend

    backend = CalDAVBackend(port.BackendConfig(name="caldav", url="https://dav.mairie.fr/remote.php/dav/",
                                               credentials=port.Credentials(username="svc", password="pw")))
    assert backend._url("calendars/salle-a") == "https://dav.mairie.fr/remote.php/dav/calendars/salle-a/"
    with pytest.raises(port.CalendarNotFound):
        backend.changes("https://elsewhere.example/steal/", None)
    assert backend.calls == 0
