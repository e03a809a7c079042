"""Booking rules: what a site allows, per resource kind.

The checks run in a fixed order so that a person is told the most useful
reason first (a closed day before a too-long slot, for instance).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields, replace
from datetime import date, datetime, time, timedelta
from functools import lru_cache

import holidays

from . import errors
from .model import Interval, Resource, Site
from .messages import msg


@dataclass(frozen=True)
class Rules:
    max_days_ahead: int = 30
    max_recurring_days_ahead: int = 182
    max_duration_minutes: int = 780
    checkin_opens_minutes_before: int = 15
    release_after_minutes: int = 30
    # "Check in by 10:00": a local time of the booking's day after which a
    # booking started before it and still not checked in is released. None: none.
    checkin_deadline: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    def updated(self, changes: dict) -> "Rules":
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise errors.Invalid(msg("unknown_rule_name", name=sorted(unknown)[0]),
                                 field=sorted(unknown)[0])
        bounds = {
            "max_days_ahead": (0, 3660),
            "max_recurring_days_ahead": (0, 3660),
            "max_duration_minutes": (5, 1440),
            "checkin_opens_minutes_before": (0, 240),
            "release_after_minutes": (0, 1440),
        }
        for name, value in changes.items():
            if name == "checkin_deadline":
                if value is not None and not (isinstance(value, str) and DEADLINE.match(value)):
                    raise errors.Invalid("checkin_deadline_is_a_local_time", field=name)
                continue
            low, high = bounds[name]
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise errors.Invalid(msg("name_must_be_a_whole_number", name=name, low=low,
                                         high=high), field=name)
        return replace(self, **changes)


DEADLINE = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


def deadline_release(rules: Rules, site: Site, start: datetime) -> datetime | None:
    """When a booking starting at ``start`` is released for want of a check-in
    by the site's deadline: that time on its local day, for a booking that
    started before it; None otherwise (no deadline, or a booking starting
    later, which only ``release_after_minutes`` concerns)."""
    if rules.checkin_deadline is None:
        return None
    hours, minutes = (int(part) for part in rules.checkin_deadline.split(":"))
    deadline = site.at(site.local_date(start), time(hours, minutes))
    return deadline if start < deadline else None


# release_after_minutes = 0: never released for want of a check-in. Rooms are
# released 15 minutes into an unattended meeting (the "ghost meeting"); desks
# and equipment only where a site asks for it.
DEFAULT_RULES = {
    "desk": Rules(release_after_minutes=0),
    "room": Rules(max_days_ahead=90, max_duration_minutes=720, release_after_minutes=15),
    "equipment": Rules(max_days_ahead=60, max_duration_minutes=780, release_after_minutes=0),
}


@lru_cache(maxsize=64)
def _holidays(country: str, subdivision: str | None, year: int):
    return holidays.country_holidays(country, subdiv=subdivision, years=year)


def holiday_name(site: Site, day: date) -> str | None:
    if not site.holiday_country:
        return None  # a site may opt out of public holidays (e.g. a 24/7 service)
    return _holidays(site.holiday_country, site.holiday_subdivision, day.year).get(day)


def closure_reason(site: Site, day: date) -> errors.RuleViolation | None:
    """Why a site is closed on a local day, or None when it is open."""
    if day.isoweekday() in site.closed_weekdays or day in site.closed_dates:
        return errors.SiteClosed(msg("site_is_closed_on_day", site=site.name, day=day.isoformat()),
                                 date=day.isoformat())
    name = holiday_name(site, day)
    if name:
        return errors.PublicHoliday(
            msg("day_is_a_public_holiday_name", day=day.isoformat(),
                name=name), date=day.isoformat(), holiday=name
        )
    return None


def check_booking(
    site: Site,
    rules: Rules,
    resource: Resource,
    interval: Interval,
    now: datetime,
    person_team_ids: frozenset[str] | set[str],
    recurring: bool = False,
) -> None:
    """Raise the first rule the requested interval breaks."""
    if interval.end <= now:
        raise errors.InThePast("this_time_is_already_over", field="start")

    first_day = site.local_date(interval.start)
    today = site.local_date(now)
    horizon = rules.max_recurring_days_ahead if recurring else rules.max_days_ahead
    if first_day > today + timedelta(days=horizon):
        raise errors.TooFarAhead(
            msg("bookings_open_horizon_days_ahead_at",
                horizon=horizon), field="start", max_days_ahead=horizon
        )
    if interval.minutes > rules.max_duration_minutes:
        raise errors.TooLong(
            msg("a_booking_lasts_minutes_minutes_at", minutes=rules.max_duration_minutes),
            field="end",
            max_duration_minutes=rules.max_duration_minutes,
        )

    closed = closure_reason(site, first_day)
    if closed:
        raise closed

    opens = site.at(first_day, site.opening_time)
    closes = site.at(first_day, site.closing_time)
    if interval.start < opens or interval.end > closes:
        raise errors.OutsideOpeningHours(
            msg("site_is_open_from_opening_to", site=site.name, opening=site.opening_time,
                closing=site.closing_time),
            field="start",
            opening_time=site.opening_time.strftime("%H:%M"),
            closing_time=site.closing_time.strftime("%H:%M"),
        )

    if not resource.open_to(person_team_ids):
        raise errors.RestrictedResource(
            msg("resource_is_reserved_for_some_teams", resource=resource.name), field="resource_id"
        )


def check_in_window(rules: Rules, interval: Interval, now: datetime) -> None:
    """Check-in opens a little before the start and stays open until the end."""
    opens = interval.start - timedelta(minutes=rules.checkin_opens_minutes_before)
    if not opens <= now < interval.end:
        raise errors.CheckInNotOpen(
            msg("check_in_is_open_from_minutes", minutes=rules.checkin_opens_minutes_before),
            opens_at=opens.isoformat(),
            closes_at=interval.end.isoformat(),
        )
