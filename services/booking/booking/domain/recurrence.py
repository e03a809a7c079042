"""Recurring bookings: RRULE expansion in the site's local time.

The rule is expanded on naive local wall-clock times and each occurrence is
then placed in the site's time zone, so "every Tuesday 09:00-12:00" stays at
09:00 local on both sides of the last Sundays of March and October.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from dateutil.rrule import rrulestr

from . import errors
from .model import Interval, Site, period_interval
from .messages import msg

MAX_OCCURRENCES = 400
ALLOWED_FREQS = {"DAILY", "WEEKLY", "MONTHLY"}


def _normalise(rule: str, site: Site) -> str:
    """Validate the RRULE text and turn its UNTIL into naive local time.

    dateutil refuses a UTC UNTIL with a naive DTSTART (and the reverse); people
    write both ``UNTIL=20270331`` and ``UNTIL=20270331T000000Z``.
    """
    if not isinstance(rule, str) or not rule.strip() or len(rule) > 200:
        raise errors.Invalid("rrule_must_be_a_non_empty", field="rrule")
    text = rule.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    parts = {}
    for chunk in text.split(";"):
        key, sep, value = chunk.partition("=")
        if not sep or not key or not value:
            raise errors.Invalid(msg("rrule_part_chunk_is_not_name", chunk=chunk), field="rrule")
        parts[key.strip().upper()] = value.strip().upper()
    if "DTSTART" in parts:
        raise errors.Invalid("rrule_must_not_carry_dtstart_the", field="rrule")
    if parts.get("FREQ") not in ALLOWED_FREQS:
        raise errors.Invalid("rrule_freq_must_be_daily_weekly", field="rrule")
    until = parts.get("UNTIL")
    if until:
        try:
            if until.endswith("Z"):
                moment = datetime.strptime(until, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
                local = moment.astimezone(site.tz).replace(tzinfo=None)
            elif "T" in until:
                local = datetime.strptime(until, "%Y%m%dT%H%M%S")
            else:
                local = datetime.strptime(until, "%Y%m%d") + timedelta(days=1, seconds=-1)
        except ValueError:
            raise errors.Invalid("rrule_until_is_not_a_date", field="rrule") from None
        parts["UNTIL"] = local.strftime("%Y%m%dT%H%M%S")
    return ";".join(f"{k}={v}" for k, v in parts.items())


def occurrence_days(rule: str, site: Site, first_day: date, first_time: time) -> list[date]:
    """Local days on which the rule recurs, starting with ``first_day``."""
    normalised = _normalise(rule, site)
    try:
        recurrence = rrulestr(normalised, dtstart=datetime.combine(first_day, first_time))
    except (ValueError, TypeError) as exc:
        raise errors.Invalid(msg("rrule_is_not_valid_exc", exc=exc), field="rrule") from None
    days = []
    for occurrence in recurrence:
        days.append(occurrence.date())
        if len(days) > MAX_OCCURRENCES:
            raise errors.RecurrenceTooLong(
                msg("a_series_has_max_occurrences_occurrences", max_occurrences=MAX_OCCURRENCES),
                field="rrule",
            )
        if occurrence.date() > first_day + timedelta(days=3660):
            break
    return days


def expand_period(rule: str, site: Site, first_day: date, period: str) -> list[Interval]:
    """Occurrences of a named period (day, morning, afternoon)."""
    return [period_interval(site, day, period) for day in occurrence_days(rule, site, first_day, site.opening_time)]


def expand_slot(rule: str, site: Site, first: Interval) -> list[Interval]:
    """Occurrences of a slot, keeping its local wall-clock times."""
    start = first.start.astimezone(site.tz)
    end = first.end.astimezone(site.tz)
    length_days = (end.date() - start.date()).days
    return [
        Interval(site.at(day, start.time()), site.at(day + timedelta(days=length_days), end.time()))
        for day in occurrence_days(rule, site, start.date(), start.time())
    ]


def cap_horizon(occurrences: list[Interval], site: Site, today: date, horizon_days: int):
    """Split occurrences into those inside the booking horizon and those beyond."""
    limit = today + timedelta(days=horizon_days)
    inside = [o for o in occurrences if site.local_date(o.start) <= limit]
    beyond = [o for o in occurrences if site.local_date(o.start) > limit]
    return inside, beyond
