"""The booking domain's value objects.

Times are always timezone-aware. A booking occupies the half-open interval
[start, end): a desk booked 08:00-13:00 and another 13:00-20:00 do not
overlap, so back-to-back bookings are allowed everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from .errors import Invalid
from .messages import msg

RESOURCE_KINDS = ("desk", "room", "equipment")
PERIODS = ("day", "morning", "afternoon")
ACTIVE_STATUSES = ("confirmed", "checked_in")
STATUSES = ("confirmed", "checked_in", "ended", "cancelled", "released")


@dataclass(frozen=True)
class Interval:
    start: datetime
    end: datetime

    def __post_init__(self):
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise Invalid("times_must_carry_a_utc_offset", field="start")
        if self.end <= self.start:
            raise Invalid("the_end_must_be_after_the", field="end")

    def overlaps(self, other: "Interval") -> bool:
        return self.start < other.end and other.start < self.end

    @property
    def minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)


@dataclass(frozen=True)
class Site:
    id: str
    name: str
    timezone: str = "Europe/Paris"
    opening_time: time = time(7, 30)
    midday_time: time = time(13, 0)
    closing_time: time = time(20, 0)
    closed_weekdays: frozenset[int] = frozenset({6, 7})
    closed_dates: frozenset[date] = frozenset()
    holiday_country: str = "FR"
    holiday_subdivision: str | None = None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()

    def at(self, day: date, clock: time) -> datetime:
        """The aware instant of a wall-clock time on a local day.

        zoneinfo resolves the wall time with the offset in force that day, so
        09:00 stays 09:00 on both sides of a daylight-saving change.
        """
        return datetime.combine(day, clock, tzinfo=self.tz)


@dataclass(frozen=True)
class Resource:
    id: str
    site_id: str
    kind: str
    name: str
    capacity: int = 1
    attributes: dict = field(default_factory=dict)
    restricted_team_ids: frozenset[str] = frozenset()
    zone_id: str | None = None
    floor_id: str | None = None
    code: str = ""
    x: float | None = None
    y: float | None = None

    def open_to(self, team_ids: frozenset[str] | set[str]) -> bool:
        return not self.restricted_team_ids or bool(self.restricted_team_ids & set(team_ids))


def period_interval(site: Site, day: date, period: str) -> Interval:
    """The interval a named period covers on a local day at a site."""
    if period == "day":
        return Interval(site.at(day, site.opening_time), site.at(day, site.closing_time))
    if period == "morning":
        return Interval(site.at(day, site.opening_time), site.at(day, site.midday_time))
    if period == "afternoon":
        return Interval(site.at(day, site.midday_time), site.at(day, site.closing_time))
    raise Invalid(msg("unknown_period_period_use_day_morning", period=period), field="period")


def parse_instant(value: str, field_name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise Invalid(msg("field_name_is_not_an_iso", field_name=field_name),
                      field=field_name) from None
    if moment.tzinfo is None:
        raise Invalid(msg("field_name_must_carry_a_utc", field_name=field_name), field=field_name)
    return moment


def parse_day(value: str, field_name: str = "date") -> date:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise Invalid(msg("field_name_is_not_a_yyyy", field_name=field_name),
                      field=field_name) from None
