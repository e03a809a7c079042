"""When things happen: reminders, no-show warnings, retries.

Times are computed in the site's time zone, so "the morning of" stays 07:30
across daylight-saving changes.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime, time, timedelta

EVENING_BEFORE = time(17, 0)   # "day_before" reminders
MORNING_OF = time(7, 30)       # "morning_of" reminders
MORNING_LEAD = timedelta(hours=1)  # at the latest one hour before an early start


def _tz(name: str | None):
    try:
        return zoneinfo.ZoneInfo(name or "Europe/Paris")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("Europe/Paris")


def reminder_due(start: datetime, timezone: str | None, choice: str) -> datetime | None:
    """When to remind of a booking starting at ``start``; None for no reminder."""
    tz = _tz(timezone)
    local = start.astimezone(tz)
    if choice == "day_before":
        return datetime.combine(local.date() - timedelta(days=1), EVENING_BEFORE, tzinfo=tz)
    if choice == "morning_of":
        morning = datetime.combine(local.date(), MORNING_OF, tzinfo=tz)
        return min(morning, start - MORNING_LEAD)
    return None


def first_reminder_due(start: datetime, timezone: str | None) -> datetime:
    """The earliest a reminder can be due (the day before); at that time the
    person's current choice decides to send it, move it to the morning, or drop it."""
    return reminder_due(start, timezone, "day_before")


def no_show_warning_due(start: datetime, release_after_minutes: int | None,
                        lead_minutes: int) -> tuple[datetime, datetime] | None:
    """(when to warn, when the booking will be released), or None when the
    site's rules never release (``release_after_minutes`` 0 or unknown)."""
    if not release_after_minutes:
        return None
    release = start + timedelta(minutes=release_after_minutes)
    warn = max(start, release - timedelta(minutes=lead_minutes))
    return warn, release


def backoff(attempts: int, base: float, cap: float) -> timedelta:
    """Delay before the next try after ``attempts`` failed ones: base, 2 base, 4 base..."""
    return timedelta(seconds=min(cap, base * (2 ** max(0, attempts - 1))))
