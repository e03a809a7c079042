"""What a remote calendar item means for a room: validated occurrences.

A calendar server hands over whatever people typed in Outlook, Thunderbird or
a phone: items with no end, time zones nobody has heard of, all-day notes,
daily series with a moved and a cancelled occurrence, a pasted 5 MB
description, or bytes that are not iCalendar at all. ``interpret`` turns one
item into the occurrences that should block the room inside the booking
horizon, or into skips with a reason; it never raises, so one bad item never
stops a sync round.

Decisions (documented in docs/architecture.md, "Calendar sync"):

- No end: RFC 5545 says a date-time DTSTART without DTEND/DURATION ends when
  it starts, so it blocks nothing: skipped (``missing_end``). A date-only
  DTSTART lasts one day.
- A TZID that is neither an IANA zone, a Windows zone name icalendar knows,
  nor defined by a VTIMEZONE in the item: skipped (``unknown_timezone``).
  A floating time (no TZID at all) is read in the site's time zone.
- All-day items block the room from the site's opening to its closing time
  on each day they cover; ``TRANSP:TRANSPARENT`` items (free) block nothing.
- Series are expanded (RRULE, RDATE, EXDATE, moved and cancelled
  occurrences) between now and the horizon, at most ``MAX_OCCURRENCES``.
- Descriptions are never read; items larger than ``MAX_ITEM_BYTES`` are not
  parsed at all (``too_large``); titles are cut to ``MAX_TITLE`` characters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from .backend import RemoteItem, booking_id_from_uid, MARKER_PROPERTY

MAX_ITEM_BYTES = 1_000_000
MAX_TITLE = 200
MAX_OCCURRENCES = 400


@dataclass(frozen=True)
class Occurrence:
    """One stretch of time a remote item blocks a room.

    ``key`` tells the occurrences of one series apart: the original start
    (RECURRENCE-ID) in UTC, ``''`` for a single item.
    """

    remote_id: str
    key: str
    start: datetime
    end: datetime
    uid: str | None = None
    etag: str | None = None
    title: str = ""
    organiser_email: str | None = None
    created: datetime | None = None
    escale_booking_id: str | None = None
    cancelled: bool = False


@dataclass(frozen=True)
class Skip:
    remote_id: str
    reason: str
    key: str = ""


@dataclass(frozen=True)
class Window:
    """Where occurrences matter: from now to the booking horizon, and the
    site's day (for floating times and all-day items)."""

    start: datetime
    end: datetime
    site_tz: str = "Europe/Paris"
    opening: time = time(7, 30)
    closing: time = time(20, 0)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.site_tz)


@dataclass(frozen=True)
class Interpretation:
    """Occurrences inside the window; ``series`` is true when the item is a
    recurring series (its keys are RECURRENCE-IDs, so an occurrence that
    disappears was removed from the series)."""

    occurrences: list[Occurrence]
    skips: list[Skip]
    series: bool = False


def interpret(item: RemoteItem, window: Window) -> Interpretation:
    try:
        if item.ical is not None:
            return _from_ical(item, window)
        return _from_fields(item, window)
    except Exception as exc:  # noqa: BLE001 - a broken item is skipped, never fatal
        return Interpretation([], [Skip(item.remote_id, f"broken:{type(exc).__name__}")])


# --- structured items (EWS, Graph) -----------------------------------------


def _from_fields(item: RemoteItem, window: Window) -> Interpretation:
    skip = _common_skip(item)
    if skip:
        return Interpretation([], [skip])
    if item.start is None:
        return Interpretation([], [Skip(item.remote_id, "missing_start")])
    if item.end is None:
        return Interpretation([], [Skip(item.remote_id, "missing_end")])
    if item.start.tzinfo is None or item.end.tzinfo is None:
        return Interpretation([], [Skip(item.remote_id, "unknown_timezone")])
    start, end = item.start, item.end
    if item.all_day:
        start, end = _all_day(start.date(), end.date(), window)
    if end <= start:
        return Interpretation([], [Skip(item.remote_id, "empty_interval")])
    marker = item.escale_booking_id or booking_id_from_uid(item.uid)
    occ = Occurrence(
        remote_id=item.remote_id, key="", start=start, end=end, uid=item.uid, etag=item.etag,
        title=(item.title or "")[:MAX_TITLE], organiser_email=_email(item.organiser_email),
        created=item.created, escale_booking_id=marker, cancelled=item.cancelled,
    )
    return Interpretation([occ] if _inside(occ, window) else [], [])


def _common_skip(item: RemoteItem) -> Skip | None:
    if item.size > MAX_ITEM_BYTES:
        return Skip(item.remote_id, "too_large")
    return None


# --- iCalendar items (CalDAV, EWS MIME content) -----------------------------


def _from_ical(item: RemoteItem, window: Window) -> Interpretation:
    import icalendar
    import recurring_ical_events

    size = max(item.size, len(item.ical))
    if size > MAX_ITEM_BYTES:
        return Interpretation([], [Skip(item.remote_id, "too_large")])
    try:
        calendar = icalendar.Calendar.from_ical(item.ical)
    except Exception:  # noqa: BLE001 - not iCalendar
        return Interpretation([], [Skip(item.remote_id, "unparseable")])
    events = list(calendar.walk("VEVENT"))
    if not events:
        return Interpretation([], [Skip(item.remote_id, "no_event")])
    master = next((e for e in events if "RECURRENCE-ID" not in e), events[0])
    for event in events:
        reason = _bad_times(event)
        if reason:
            return Interpretation([], [Skip(item.remote_id, reason)])
    series = any("RRULE" in e or "RDATE" in e for e in events) or len(events) > 1
    uid = str(master.get("UID")) if master.get("UID") else item.uid
    marker = (str(master.get(MARKER_PROPERTY)).strip() if master.get(MARKER_PROPERTY) else None)
    marker = marker or item.escale_booking_id or booking_id_from_uid(uid)
    created = _created(master) or item.created

    occurrences: list[Occurrence] = []
    skips: list[Skip] = []
    # Look one day further back: a series occurrence started yesterday may still run now.
    expanded = recurring_ical_events.of(calendar, skip_bad_series=True).between(
        window.start - timedelta(days=1), window.end
    )
    for count, event in enumerate(expanded):
        if count >= MAX_OCCURRENCES:
            skips.append(Skip(item.remote_id, "too_many_occurrences"))
            break
        key = ""
        if series:
            rid = event.decoded("RECURRENCE-ID") if "RECURRENCE-ID" in event else event.decoded("DTSTART")
            key = _utc_key(_aware(rid, window))
        start_value = event.decoded("DTSTART")
        all_day = not isinstance(start_value, datetime)
        if "DTEND" in event:
            end_value = event.decoded("DTEND")
        elif "DURATION" in event:
            end_value = start_value + event.decoded("DURATION")
        elif all_day:
            end_value = start_value + timedelta(days=1)
        else:
            skips.append(Skip(item.remote_id, "missing_end", key))
            continue
        if str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT":
            skips.append(Skip(item.remote_id, "transparent", key))
            continue
        if all_day:
            end_day = end_value if not isinstance(end_value, datetime) else end_value.date()
            start, end = _all_day(start_value, end_day, window)
        else:
            start, end = _aware(start_value, window), _aware(end_value, window)
        if end <= start:
            skips.append(Skip(item.remote_id, "empty_interval", key))
            continue
        organiser = event.get("ORGANIZER") or master.get("ORGANIZER")
        occ = Occurrence(
            remote_id=item.remote_id, key=key, start=start, end=end, uid=uid, etag=item.etag,
            title=str(event.get("SUMMARY") or "")[:MAX_TITLE],
            organiser_email=_email(str(organiser) if organiser else None),
            created=created, escale_booking_id=marker,
            cancelled=str(event.get("STATUS", "")).upper() == "CANCELLED",
        )
        if _inside(occ, window):
            occurrences.append(occ)
    return Interpretation(occurrences, skips, series)


def _bad_times(event) -> str | None:
    """Why an event's times cannot be placed in time, or None."""
    if "DTSTART" not in event:
        return "missing_start"
    for name in ("DTSTART", "DTEND", "RECURRENCE-ID"):
        if name not in event:
            continue
        prop = event.get(name)
        try:
            value = event.decoded(name)
        except Exception:  # noqa: BLE001
            return "bad_time"
        tzid = getattr(prop, "params", {}).get("TZID")
        if isinstance(value, datetime) and value.tzinfo is None and tzid:
            return "unknown_timezone"
    if "DTEND" not in event and "DURATION" not in event and isinstance(event.decoded("DTSTART"), datetime):
        return "missing_end"  # RFC 5545: it ends when it starts, so it blocks nothing
    return None


def _created(event) -> datetime | None:
    for name in ("CREATED", "DTSTAMP"):
        if name in event:
            try:
                value = event.decoded(name)
            except Exception:  # noqa: BLE001
                continue
            if isinstance(value, datetime):
                return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return None


# --- shared helpers -----------------------------------------------------------


def _aware(value, window: Window) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=window.tz)  # floating: site time
    return datetime.combine(value, time(0), tzinfo=window.tz)


def _all_day(first: date, end_exclusive: date, window: Window) -> tuple[datetime, datetime]:
    """Opening time of the first day to closing time of the last day, site time."""
    last = max(first, end_exclusive - timedelta(days=1))
    return (datetime.combine(first, window.opening, tzinfo=window.tz),
            datetime.combine(last, window.closing, tzinfo=window.tz))


def _inside(occ: Occurrence, window: Window) -> bool:
    return occ.end > window.start and occ.start < window.end


def _utc_key(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _email(value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip()
    if value.lower().startswith("mailto:"):
        value = value[7:]
    return value.lower() or None
