"""The things presence reasons about, and the day they live in.

A person's day is the local calendar day of the organisation's time zone,
cut in two half-days at ``midday`` (``am`` before, ``pm`` after). Every
signal is an interval of aware datetimes; intervals are half-open
``[start, end)``, as in the booking service.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from . import errors

# Statuses a plan slot may hold ("unknown": nothing declared, booked or patterned).
PLAN_STATUSES = ("on_site", "remote", "off", "mission")
# Temporary statuses a person may set, with an end time.
TEMPORARY_KINDS = ("in_meeting", "do_not_disturb", "away", "available")
# Every status an answer may carry.
STATUSES = PLAN_STATUSES + ("in_meeting", "do_not_disturb", "away", "available", "unknown",
                            "not_available")
# Which input decided, highest precedence first (see ``precedence``).
SIGNALS = ("temporary_status", "check_in", "meeting", "booking", "day_plan")
PLAN_SOURCES = ("declared", "booking", "pattern")
SLOTS = ("am", "pm")
PERIODS = {"day": ("am", "pm"), "morning": ("am",), "afternoon": ("pm",)}
# Booking kinds that say where someone is (a booked projector does not).
PLACE_KINDS = ("desk", "room")
# Booking statuses that make a day "on site" (released = no-show: they did not come).
DAY_MAKING_STATUSES = ("confirmed", "checked_in", "ended")
LIVE_STATUSES = ("confirmed", "checked_in")

LABEL_MAX = 80


@dataclass(frozen=True)
class DayFrame:
    """One local day: [start, end) cut at midday."""

    day: date
    tz: tzinfo
    midday_time: time = time(13, 0)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.day, time(0), self.tz)

    @property
    def midday(self) -> datetime:
        return datetime.combine(self.day, self.midday_time, self.tz)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.day + timedelta(days=1), time(0), self.tz)

    def slot_of(self, at: datetime) -> str:
        return "am" if at < self.midday else "pm"

    def slot_bounds(self, slot: str) -> tuple[datetime, datetime]:
        return (self.start, self.midday) if slot == "am" else (self.midday, self.end)

    def contains(self, at: datetime) -> bool:
        return self.start <= at < self.end


def day_of(at: datetime, tz: tzinfo) -> date:
    return at.astimezone(tz).date()


@dataclass(frozen=True)
class Slot:
    """What a half-day is planned as, and where the plan came from."""

    status: str = "unknown"
    site_id: str | None = None
    source: str | None = None

    def to_wire(self) -> dict:
        return {"status": self.status, "site_id": self.site_id, "source": self.source}

    @property
    def known(self) -> bool:
        return self.status != "unknown"


UNKNOWN_SLOT = Slot()


@dataclass(frozen=True)
class DayPlan:
    day: date
    am: Slot = UNKNOWN_SLOT
    pm: Slot = UNKNOWN_SLOT

    def slot(self, name: str) -> Slot:
        return self.am if name == "am" else self.pm

    def to_wire(self) -> dict:
        return {"date": self.day.isoformat(), "am": self.am.to_wire(), "pm": self.pm.to_wire()}

    def on_site_ids(self) -> list[str]:
        ids = []
        for s in (self.am, self.pm):
            if s.status == "on_site" and s.site_id and s.site_id not in ids:
                ids.append(s.site_id)
        return ids


@dataclass(frozen=True)
class BookingFact:
    """What presence keeps of a booking: when, where, in which state."""

    booking_id: str
    person_id: str
    kind: str
    status: str
    start: datetime
    end: datetime
    place: dict = field(default_factory=dict, compare=False)

    def covers(self, at: datetime) -> bool:
        return self.start <= at < self.end

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.start < end and start < self.end

    @property
    def live(self) -> bool:
        return self.status in LIVE_STATUSES and self.kind in PLACE_KINDS

    def desk_view(self) -> dict:
        return {**self.place, "start": self.start.isoformat(), "end": self.end.isoformat(),
                "status": self.status, "booking_id": self.booking_id}


@dataclass(frozen=True)
class TemporaryStatus:
    kind: str
    since: datetime
    until: datetime
    label: str | None = None

    def covers(self, at: datetime) -> bool:
        return self.since <= at < self.until


@dataclass(frozen=True)
class Busy:
    """A busy time from a calendar (calendar sync feeds these once it exists)."""

    start: datetime
    end: datetime

    def covers(self, at: datetime) -> bool:
        return self.start <= at < self.end


@dataclass(frozen=True)
class Signals:
    """Everything known about one person for one day."""

    plan: DayPlan
    bookings: tuple[BookingFact, ...] = ()
    temporary: TemporaryStatus | None = None
    busy: tuple[Busy, ...] = ()
    site_names: dict[str, str] = field(default_factory=dict, compare=False)


# --- parsing wire values -------------------------------------------------------------


def parse_uuid(value: Any, field_name: str) -> str:
    try:
        return str(uuid.UUID(str(value))) if isinstance(value, str) else _bad(field_name, "not_id")
    except ValueError:
        return _bad(field_name, "not_id")


def parse_day(value: Any, field_name: str) -> date:
    if not isinstance(value, str):
        _bad(field_name, "not_date")
    try:
        return date.fromisoformat(value) if len(value) == 10 else _bad(field_name, "not_date")
    except ValueError:
        return _bad(field_name, "not_date")


def parse_instant(value: Any, field_name: str) -> datetime:
    if not isinstance(value, str):
        _bad(field_name, "not_time")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        _bad(field_name, "not_time")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        _bad(field_name, "not_time")
    return parsed


def _bad(field_name: str, reason: str, **params):
    raise errors.Invalid(field_name, reason, **params)
