"""iCalendar subscription feeds (RFC 5545), built from bookings. No I/O.

A feed is what Outlook, Thunderbird or a phone polls at a private URL: a
whole VCALENDAR each time, without METHOD (a published calendar, not an
invitation). What keeps subscribed copies right:

* one VEVENT per booking whose UID never changes (``booking-<id>@escale``,
  the UID of the booking's email invitations too), so a moved booking
  replaces its old copy instead of being added beside it;
* SEQUENCE is the booking's own revision (the booking service bumps it when
  the time, title or status changes), and DTSTAMP/LAST-MODIFIED its last
  change, as RFC 5545 asks of a calendar without METHOD. The same bookings
  therefore give the same bytes, which makes the HTTP ETag meaningful;
* a cancelled or released booking stays in the feed for a while with
  STATUS:CANCELLED, so clients that merge rather than replace drop it;
* times are in the site's zone (TZID) with its VTIMEZONE, so 09:00 stays
  09:00 across a daylight-saving change.

What a room feed shows follows the door tablet's rule (routes/devices.py,
booking's ``visible_booking``): the meeting's title unless the room is
marked ``private``, and never who booked, unless the room's attributes say
``show_organiser: true`` (and it is not private).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from typing import Iterable, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import (Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard, vCalAddress,
                       vDuration)

from . import i18n

DEFAULT_TIMEZONE = "Europe/Paris"
PRODID = "-//Escale//Calendar feed 1.0//FR"
DAYS_BACK = 30            # past bookings kept in a feed
DAYS_AHEAD = 180          # future bookings shown
CANCELLED_DAYS = 30       # a cancellation stays visible this long after it happened
REFRESH = timedelta(minutes=15)   # what clients are told about polling
CANCELLED_STATUSES = ("cancelled", "released")
FORMAT_VERSION = 2        # change it with the output, so ETags held by clients expire


@dataclass(frozen=True)
class FeedSpec:
    """What one feed is: whose, in which language and zone, and what it may show."""

    feed_id: str
    kind: str                      # "person" (one's own bookings) or "room"
    name: str                      # the person's display name or the room's name
    language: str = i18n.DEFAULT_LANGUAGE
    timezone: str = DEFAULT_TIMEZONE
    show_titles: bool = True
    show_organiser: bool = False


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime
    cancelled_since: datetime


def window(now: datetime) -> Window:
    """The period a feed covers around ``now``, and how old a cancellation may be."""
    return Window(now - timedelta(days=DAYS_BACK), now + timedelta(days=DAYS_AHEAD),
                  now - timedelta(days=CANCELLED_DAYS))


def room_privacy(attributes: Mapping | None) -> tuple[bool, bool]:
    """(show titles, show organiser) for a room's feed, from its attributes."""
    attributes = attributes or {}
    private = attributes.get("private") is True
    return not private, (not private and attributes.get("show_organiser") is True)


def language_of(value) -> str:
    return value if value in i18n.LANGUAGES else i18n.DEFAULT_LANGUAGE


def build_feed(spec: FeedSpec, items: Iterable[Mapping], span: Window) -> bytes:
    """The feed's VCALENDAR, as bytes, for items of ``booking.feed_bookings``.

    An item the feed cannot show (no start, an unknown zone...) is skipped:
    one bad row must not take the whole calendar away from its subscribers.
    """
    language = language_of(spec.language)
    calendar = Calendar.new(
        prodid=PRODID,
        uid=f"feed-{spec.feed_id}@escale",
        name=_calendar_name(spec, language),
        refresh_interval=REFRESH,
        calscale="GREGORIAN",
    )
    calendar["REFRESH-INTERVAL"].params["VALUE"] = "DURATION"  # RFC 7986 requires it
    calendar.add("x-wr-timezone", spec.timezone)
    calendar.add("x-published-ttl", vDuration(REFRESH))
    events, zones = [], {spec.timezone}
    for item in items:
        event = _event(spec, language, item)
        if event is not None:
            events.append(event)
            zones.add(str(event.start.tzinfo))
    first = date(span.start.year - 1, 1, 1)
    last = date(span.end.year + 2, 1, 1)
    for tzid in sorted(zones):  # VTIMEZONEs first, before the events naming them
        calendar.add_component(_vtimezone(tzid, first, last))
    for event in events:
        calendar.add_component(event)
    return calendar.to_ical()


def fingerprint(spec: FeedSpec, items: list[Mapping], span: Window) -> str:
    """A strong validator of what ``build_feed`` would return, without building it.

    The body depends only on the spec, the items and the years the VTIMEZONE
    covers (and this module's output format), so a hash of those is the
    feed's ETag: a poll that changes nothing is answered 304 without paying
    for icalendar (about a millisecond per event).
    """
    material = json.dumps([FORMAT_VERSION, asdict(spec), items, span.start.year, span.end.year],
                          sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(material.encode("utf-8")).hexdigest()[:40]


def last_modified(items: Iterable[Mapping]) -> datetime | None:
    """The latest change among the feed's bookings (HTTP Last-Modified)."""
    stamps = [_instant(i["booking"].get("updated_at")) for i in items]
    stamps = [s for s in stamps if s is not None]
    return max(stamps) if stamps else None


def _calendar_name(spec: FeedSpec, language: str) -> str:
    key = "feed_name_person" if spec.kind == "person" else "feed_name_room"
    return i18n.message(key, language, name=spec.name)


def _event(spec: FeedSpec, language: str, item: Mapping) -> Event | None:
    booking, place = item.get("booking") or {}, item.get("place") or {}
    start, end = _instant(booking.get("start")), _instant(booking.get("end"))
    if start is None or end is None or end <= start or not booking.get("id"):
        return None
    try:
        zone = ZoneInfo(str(place.get("timezone") or spec.timezone))
    except (ZoneInfoNotFoundError, ValueError):
        return None
    cancelled = booking.get("status") in CANCELLED_STATUSES
    stamp = _instant(booking.get("updated_at")) or _instant(booking.get("created_at")) or start
    created = _instant(booking.get("created_at"))
    event = Event.new(
        uid=f"booking-{booking['id']}@escale",
        start=start.astimezone(zone),
        end=end.astimezone(zone),
        stamp=stamp.astimezone(timezone.utc),
        created=created.astimezone(timezone.utc) if created else None,
        last_modified=stamp.astimezone(timezone.utc),
        sequence=_sequence(booking.get("sequence")),
        status="CANCELLED" if cancelled else "CONFIRMED",
        summary=_summary(spec, language, booking, item.get("person"), cancelled),
        location=_location(booking, place),
        # A desk for the day must not make its holder look busy in their own calendar.
        transparency="TRANSPARENT" if cancelled or (
            spec.kind == "person" and booking.get("resource_kind") != "room") else "OPAQUE",
    )
    person = item.get("person") or {}
    if spec.kind == "room" and spec.show_organiser and person.get("email"):
        organiser = vCalAddress(f"mailto:{person['email']}")
        organiser.params["cn"] = person.get("display_name") or person["email"]
        event.add("organizer", organiser)
    return event


def _summary(spec: FeedSpec, language: str, booking: Mapping, person: Mapping | None,
             cancelled: bool) -> str:
    title = (booking.get("title") or "").strip()
    resource = booking.get("resource_name") or ""
    if spec.kind == "person":
        text = (i18n.message("feed_summary_titled", language, title=title, resource=resource)
                if title else i18n.message("feed_summary", language, resource=resource))
    else:
        text = title if (spec.show_titles and title) else i18n.message("feed_booked", language)
        if spec.show_organiser and person and person.get("display_name"):
            text = i18n.message("feed_summary_by", language, summary=text,
                                organiser=person["display_name"])
    return i18n.message("feed_cancelled", language, summary=text) if cancelled else text


def _location(booking: Mapping, place: Mapping) -> str:
    parts = [booking.get("resource_name"), place.get("floor"), place.get("building"),
             place.get("site")]
    return ", ".join(p for p in parts if p)


def _sequence(value) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _instant(value) -> datetime | None:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and value:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
    else:
        return None
    return moment if moment.tzinfo is not None else None


@lru_cache(maxsize=64)
def _vtimezone(tzid: str, first: date, last: date) -> Timezone:
    """A zone's VTIMEZONE over the feed's years: icalendar's, from zoneinfo,
    rewritten as one observance per transition.

    ``Timezone.from_tzid`` lists later transitions as one multi-valued RDATE,
    which vobject (and so some clients) reads as its first value only, and
    gives the spring onset as the wall time after the jump. Each transition
    becomes its own STANDARD/DAYLIGHT with a single DTSTART, the onset as RFC
    5545 wants it (local time before the change), checked against zoneinfo.
    Built once per zone and year range; the component is only read afterwards.
    """
    source = Timezone.from_tzid(tzid, first_date=first, last_date=last)
    zone = ZoneInfo(tzid)
    onsets = []
    for sub in source.subcomponents:
        before, after = sub["TZOFFSETFROM"].td, sub["TZOFFSETTO"].td
        rdates = sub.get("RDATE")
        rdates = rdates if isinstance(rdates, list) else [rdates] if rdates is not None else []
        for local in [sub["DTSTART"].dt, *(d.dt for r in rdates for d in r.dts)]:
            onsets.append((_onset(zone, local, before, after), sub.name, str(sub.get("TZNAME", "")),
                           before, after))
    timezone_ = Timezone()
    timezone_.add("tzid", tzid)
    for local, kind, name, before, after in sorted(onsets):
        observance = TimezoneDaylight() if kind == "DAYLIGHT" else TimezoneStandard()
        observance.add("dtstart", local)
        if name:
            observance.add("tzname", name)
        observance.add("tzoffsetfrom", before)
        observance.add("tzoffsetto", after)
        timezone_.add_component(observance)
    return timezone_


def _onset(zone: ZoneInfo, local: datetime, before: timedelta, after: timedelta) -> datetime:
    """The wall time, in the offset before it, at which a zone's offset changes
    near ``local`` (RFC 5545 onset); ``local`` itself if it is no change."""
    for instant in (local - after, local - before):   # ``local`` read in either offset
        moment = instant.replace(tzinfo=timezone.utc)
        if (moment - timedelta(seconds=1)).astimezone(zone).utcoffset() == before \
                and moment.astimezone(zone).utcoffset() == after:
            return instant + before
    return local
