"""The pure feed builder: every feed read back by two independent parsers
(icalendar and vobject), daylight-saving weeks, cancellations, revisions and
what a room feed may show."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import icalendar
import pytest
import vobject

from gateway.ical_feed import FeedSpec, build_feed, last_modified, room_privacy, window

pytestmark = pytest.mark.unit

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2027, 3, 1, 12, tzinfo=timezone.utc)


def item(booking_id, start, end, *, status="confirmed", sequence=0, title="", kind="room",
         name="Salle Seine", person=None, updated="2027-02-20T10:00:00+00:00", zone="Europe/Paris"):
    return {
        "booking": {"id": booking_id, "status": status, "start": start.isoformat(),
                    "end": end.isoformat(), "resource_kind": kind, "resource_name": name,
                    "title": title, "sequence": sequence, "updated_at": updated,
                    "created_at": "2027-02-01T08:00:00+00:00", "person_id": person and person["id"]},
        "place": {"site": "Mairie annexe", "building": "Bâtiment A", "floor": "Étage 2",
                  "zone": "Open space", "resource_code": "S1", "timezone": zone},
        "person": person,
    }


def paris(y, m, d, h, minute=0):
    return datetime(y, m, d, h, minute, tzinfo=PARIS)


def parse_both(body: bytes):
    """The feed as icalendar and vobject read it; both must accept it."""
    text = body.decode("utf-8")
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")
    first = icalendar.Calendar.from_ical(body)
    second = vobject.readOne(text)
    return first, second


def events_by_uid(first, second):
    one = {str(e["UID"]): e for e in first.walk("VEVENT")}
    two = {e.uid.value: e for e in getattr(second, "vevent_list", [])}
    assert set(one) == set(two)
    return one, two


ALICE = {"id": "p-alice", "display_name": "Alice Martin", "email": "alice.martin@mairie.fr"}


def test_a_person_feed_is_valid_rfc5545_with_the_sites_time_zone():
    body = build_feed(FeedSpec("f1", "person", "Alice Martin"),
                      [item("b1", paris(2027, 3, 10, 9), paris(2027, 3, 10, 13), kind="desk",
                            name="Bureau 12", person=ALICE)], window(NOW))
    first, second = parse_both(body)
    assert str(first["VERSION"]) == "2.0" and "METHOD" not in first  # a published calendar
    assert str(first["PRODID"]).startswith("-//Escale//")
    assert [str(tz["TZID"]) for tz in first.walk("VTIMEZONE")] == ["Europe/Paris"]
    assert second.vtimezone.tzid.value == "Europe/Paris"
    assert str(first["X-WR-CALNAME"]) == "Escale — réservations de Alice Martin"
    one, two = events_by_uid(first, second)
    event = one["booking-b1@escale"]
    assert event["DTSTART"].params["TZID"] == "Europe/Paris"
    assert event.decoded("DTSTART") == paris(2027, 3, 10, 9)
    assert two["booking-b1@escale"].dtstart.value == paris(2027, 3, 10, 9)
    assert str(event["SUMMARY"]) == "Réservation : Bureau 12"
    assert str(event["LOCATION"]) == "Bureau 12, Étage 2, Bâtiment A, Mairie annexe"
    assert str(event["STATUS"]) == "CONFIRMED" and int(event["SEQUENCE"]) == 0
    # DTSTAMP is the booking's last change (RFC 5545 without METHOD), in UTC.
    assert event.decoded("DTSTAMP") == datetime(2027, 2, 20, 10, tzinfo=timezone.utc)
    # A desk for the day does not make its holder look busy.
    assert str(event["TRANSP"]) == "TRANSPARENT"


@pytest.mark.parametrize("before, after, offsets", [
    # Last week of March: clocks go forward on Sunday 28 March 2027 (CET -> CEST).
    (paris(2027, 3, 26, 9), paris(2027, 3, 29, 9), (1, 2)),
    # Last week of October: clocks go back on Sunday 31 October 2027 (CEST -> CET).
    (paris(2027, 10, 29, 9), paris(2027, 11, 1, 9), (2, 1)),
    # The October change of 2026 as well.
    (paris(2026, 10, 23, 14), paris(2026, 10, 26, 14), (2, 1)),
])
def test_wall_clock_times_are_right_on_both_sides_of_a_daylight_saving_change(before, after, offsets):
    sunday = before.date() + timedelta(days=2)
    assert sunday.isoweekday() == 7
    night = datetime(sunday.year, sunday.month, sunday.day, 1, tzinfo=PARIS)
    items = [item("before", before, before + timedelta(hours=1)),
             item("after", after, after + timedelta(hours=1)),
             # On the Sunday itself, 01:00 to four hours later, across the missing or repeated hour.
             item("night", night, night.astimezone(timezone.utc) + timedelta(hours=4))]
    body = build_feed(FeedSpec("f", "room", "Salle Seine"), items, window(before - timedelta(days=3)))
    first, second = parse_both(body)
    one, two = events_by_uid(first, second)
    for uid, local, offset in (("before", before, offsets[0]), ("after", after, offsets[1])):
        for start in (one[f"booking-{uid}@escale"].decoded("DTSTART"),
                      two[f"booking-{uid}@escale"].dtstart.value):
            assert (start.hour, start.minute) == (local.hour, local.minute)
            assert start.utcoffset() == timedelta(hours=offset)
            assert start.astimezone(timezone.utc) == local.astimezone(timezone.utc)
    # Four real hours, shown 01:00-06:00 in March (an hour is skipped) and
    # 01:00-04:00 in October (an hour is lived twice).
    wall_end = 6 if offsets == (1, 2) else 4
    for start, end in ((one["booking-night@escale"].decoded("DTSTART"),
                        one["booking-night@escale"].decoded("DTEND")),
                       (two["booking-night@escale"].dtstart.value,
                        two["booking-night@escale"].dtend.value)):
        assert (start.hour, end.hour) == (1, wall_end)
        assert end.astimezone(timezone.utc) - start.astimezone(timezone.utc) == timedelta(hours=4)


def test_a_cancelled_booking_stays_with_status_cancelled_and_a_higher_sequence():
    start = paris(2027, 3, 15, 10)
    before = build_feed(FeedSpec("f", "person", "Alice"),
                        [item("b1", start, start + timedelta(hours=1), person=ALICE)], window(NOW))
    after = build_feed(FeedSpec("f", "person", "Alice"),
                       [item("b1", start, start + timedelta(hours=1), status="cancelled", sequence=1,
                             person=ALICE, updated="2027-02-25T09:00:00+00:00")], window(NOW))
    old, _ = events_by_uid(*parse_both(before))
    new, vnew = events_by_uid(*parse_both(after))
    assert set(old) == set(new) == {"booking-b1@escale"}
    assert str(new["booking-b1@escale"]["STATUS"]) == "CANCELLED"
    assert vnew["booking-b1@escale"].status.value == "CANCELLED"
    assert int(new["booking-b1@escale"]["SEQUENCE"]) > int(old["booking-b1@escale"]["SEQUENCE"])
    assert str(new["booking-b1@escale"]["SUMMARY"]).startswith("Annulé : ")
    assert new["booking-b1@escale"].decoded("DTSTAMP") > old["booking-b1@escale"].decoded("DTSTAMP")


def test_a_moved_booking_keeps_its_uid_and_gets_a_higher_sequence():
    start = paris(2027, 3, 15, 10)
    first = build_feed(FeedSpec("f", "room", "Salle Seine"),
                       [item("b1", start, start + timedelta(hours=1))], window(NOW))
    moved = build_feed(FeedSpec("f", "room", "Salle Seine"),
                       [item("b1", start, start + timedelta(minutes=90), sequence=1)], window(NOW))
    a, _ = events_by_uid(*parse_both(first))
    b, vb = events_by_uid(*parse_both(moved))
    assert list(a) == list(b) == ["booking-b1@escale"]
    assert int(b["booking-b1@escale"]["SEQUENCE"]) == 1 > int(a["booking-b1@escale"]["SEQUENCE"])
    assert vb["booking-b1@escale"].dtend.value == start + timedelta(minutes=90)


def test_the_same_bookings_give_the_same_bytes():
    items = [item("b1", paris(2027, 3, 15, 10), paris(2027, 3, 15, 11)),
             item("b2", paris(2027, 3, 16, 10), paris(2027, 3, 16, 11), status="released", sequence=1)]
    spec = FeedSpec("f", "room", "Salle Seine")
    assert build_feed(spec, items, window(NOW)) == build_feed(spec, items, window(NOW + timedelta(minutes=5)))
    assert last_modified(items) == datetime(2027, 2, 20, 10, tzinfo=timezone.utc)


def test_a_room_feed_never_names_who_booked_unless_the_room_allows_it():
    start = paris(2027, 3, 15, 10)
    items = [item("b1", start, start + timedelta(hours=1), title="Budget 2028", person=ALICE),
             item("walkin", start + timedelta(hours=2), start + timedelta(hours=3))]  # no owner

    def room(attributes):
        titles, organiser = room_privacy(attributes)
        spec = FeedSpec("f", "room", "Salle Seine", show_titles=titles, show_organiser=organiser)
        body = build_feed(spec, items, window(NOW))
        one, two = events_by_uid(*parse_both(body))
        return body.decode(), one, two

    text, one, _ = room({"video_conferencing": True})
    assert "Alice" not in text and "alice.martin" not in text and "ORGANIZER" not in text
    assert str(one["booking-b1@escale"]["SUMMARY"]) == "Budget 2028"   # as on the tablet
    assert str(one["booking-walkin@escale"]["SUMMARY"]) == "Réservé"

    text, one, _ = room({"private": True, "show_organiser": True})       # private wins
    assert "Alice" not in text and "Budget" not in text and "ORGANIZER" not in text
    assert str(one["booking-b1@escale"]["SUMMARY"]) == "Réservé"

    text, one, two = room({"show_organiser": True})
    organiser = one["booking-b1@escale"]["ORGANIZER"]
    assert str(organiser) == "mailto:alice.martin@mairie.fr" and organiser.params["CN"] == "Alice Martin"
    assert two["booking-b1@escale"].organizer.value == "mailto:alice.martin@mairie.fr"
    assert "ORGANIZER" not in one["booking-walkin@escale"]


def test_summaries_follow_the_feeds_language():
    start = paris(2027, 3, 15, 10)
    items = [item("b1", start, start + timedelta(hours=1), title="Weekly", person=ALICE),
             item("b2", start + timedelta(days=1), start + timedelta(days=1, hours=1), kind="desk",
                  name="Desk 4", status="cancelled", sequence=1, person=ALICE)]
    one, _ = events_by_uid(*parse_both(build_feed(FeedSpec("f", "person", "Alice", "en"), items,
                                                  window(NOW))))
    assert str(one["booking-b1@escale"]["SUMMARY"]) == "Weekly (Salle Seine)"
    assert str(one["booking-b2@escale"]["SUMMARY"]) == "Cancelled: Booking: Desk 4"
    room, _ = events_by_uid(*parse_both(build_feed(FeedSpec("f", "room", "Salle Seine", "en"),
                                                   [item("b3", start, start + timedelta(hours=1))],
                                                   window(NOW))))
    assert str(room["booking-b3@escale"]["SUMMARY"]) == "Booked"


def test_an_unusable_item_is_skipped_and_the_rest_served():
    good = item("good", paris(2027, 3, 15, 10), paris(2027, 3, 15, 11))
    no_end = item("no-end", paris(2027, 3, 15, 12), paris(2027, 3, 15, 13))
    no_end["booking"]["end"] = None
    backwards = item("backwards", paris(2027, 3, 15, 14), paris(2027, 3, 15, 13))
    bad_zone = item("bad-zone", paris(2027, 3, 15, 16), paris(2027, 3, 15, 17), zone="Mars/Olympus")
    one, _ = events_by_uid(*parse_both(build_feed(FeedSpec("f", "room", "Salle Seine"),
                                                  [no_end, backwards, bad_zone, good], window(NOW))))
    assert list(one) == ["booking-good@escale"]


def test_bookings_in_another_zone_bring_their_own_vtimezone():
    cayenne = ZoneInfo("America/Cayenne")
    start = datetime(2027, 3, 15, 9, tzinfo=cayenne)
    body = build_feed(FeedSpec("f", "person", "Alice"),
                      [item("b1", start, start + timedelta(hours=1), zone="America/Cayenne"),
                       item("b2", paris(2027, 3, 16, 9), paris(2027, 3, 16, 10))], window(NOW))
    first, second = parse_both(body)
    assert sorted(str(tz["TZID"]) for tz in first.walk("VTIMEZONE")) == ["America/Cayenne",
                                                                       "Europe/Paris"]
    one, two = events_by_uid(first, second)
    assert one["booking-b1@escale"].decoded("DTSTART") == start
    assert two["booking-b1@escale"].dtstart.value.utcoffset() == timedelta(hours=-3)


def test_every_transition_of_a_several_year_vtimezone_is_read_by_both_parsers():
    # A feed fetched in November 2026 names 2025 to 2028: vobject reads only
    # the first value of a multi-valued RDATE, so each transition must be its
    # own observance, with the onset in the local time before the change.
    items = [item(f"b{i}", start, start + timedelta(hours=1)) for i, start in enumerate([
        paris(2026, 10, 23, 9), paris(2026, 10, 26, 9), paris(2027, 3, 26, 9), paris(2027, 3, 29, 9),
        paris(2027, 10, 29, 9), paris(2027, 11, 1, 9)])]
    body = build_feed(FeedSpec("f", "room", "Salle Seine"), items,
                      window(datetime(2026, 11, 23, 6, tzinfo=timezone.utc)))
    first, second = parse_both(body)
    [vtimezone] = first.walk("VTIMEZONE")
    assert all("RDATE" not in o for o in vtimezone.subcomponents)
    onsets = {(o.name, o.decoded("DTSTART")) for o in vtimezone.subcomponents}
    assert ("DAYLIGHT", datetime(2027, 3, 28, 2)) in onsets
    assert ("STANDARD", datetime(2027, 10, 31, 3)) in onsets
    one, two = events_by_uid(first, second)
    for i, expected in enumerate([2, 1, 1, 2, 2, 1]):
        for start in (one[f"booking-b{i}@escale"].decoded("DTSTART"),
                      two[f"booking-b{i}@escale"].dtstart.value):
            assert start.hour == 9 and start.utcoffset() == timedelta(hours=expected), (i, start)


def test_the_etag_fingerprint_moves_with_what_the_feed_shows_and_nothing_else():
    from gateway.ical_feed import fingerprint

    start = paris(2027, 3, 15, 10)
    items = [item("b1", start, start + timedelta(hours=1), title="Budget")]
    spec = FeedSpec("f", "room", "Salle Seine")
    same = fingerprint(spec, items, window(NOW))
    assert same == fingerprint(spec, [dict(i) for i in items], window(NOW + timedelta(minutes=5)))
    moved = [item("b1", start, start + timedelta(hours=2), title="Budget", sequence=1)]
    private = FeedSpec("f", "room", "Salle Seine", show_titles=False)
    english = FeedSpec("f", "room", "Salle Seine", language="en")
    others = {fingerprint(spec, moved, window(NOW)), fingerprint(private, items, window(NOW)),
              fingerprint(english, items, window(NOW))}
    assert same not in others and len(others) == 3


def test_the_body_cache_keeps_the_last_body_per_feed_within_its_budget():
    from gateway.routes.feeds import BodyCache

    cache = BodyCache(max_bytes=100)
    cache.put("a", "e1", b"x" * 20)
    assert cache.get("a", "e1") == b"x" * 20 and cache.get("a", "e2") is None
    cache.put("a", "e2", b"y" * 20)
    assert cache.get("a", "e1") is None and cache.size == 20
    for feed in "bcde":
        cache.put(feed, "e", b"z" * 20)
    assert cache.size <= 100 and cache.get("e", "e") == b"z" * 20
    cache.put("big", "e", b"w" * 60)   # more than a quarter of the budget: not kept
    assert cache.get("big", "e") is None and cache.size <= 100
