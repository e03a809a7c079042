"""Times for bookings made through the real rules, whatever the hour the suite runs at.

Test sites open 00:00-23:59 Paris time and a booking must fit in one day's
opening hours, so "now + 3 hours" is refused late in the evening and "today"
is not the UTC date after 23:00 Paris time. Tests that need a booking later on
book tomorrow at a fixed hour; tests that need one happening now get a slot
clamped to today and, in the last minutes of the day, wait for midnight.
Door-tablet tests, whose meetings happen now and show on today's display,
run on a site in a French time zone where it is daytime.
"""

import time
from datetime import date, datetime, time as clock, timedelta
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")  # test sites are in Paris unless a test says otherwise
_LAST_MINUTE = clock(23, 59)  # the test sites' closing time
_MARGIN = timedelta(minutes=5)  # shortest "now" slot worth testing


def paris_today() -> date:
    """The test site's date, which is not the machine's UTC date around midnight."""
    return datetime.now(PARIS).date()


def paris_at(days: int, hour: int, minute: int = 0) -> datetime:
    """A fixed local time some days ahead, clear of both midnights."""
    return datetime.combine(paris_today() + timedelta(days=days), clock(hour, minute), PARIS)


def tomorrow_at(hour: int, minute: int = 0) -> datetime:
    return paris_at(1, hour, minute)


def slot_now(before: timedelta = timedelta(minutes=5),
             after: timedelta = timedelta(hours=1)) -> tuple[datetime, datetime]:
    """A slot around now that stays inside today's opening hours.

    Too close to closing time for a useful slot, it waits for the new day
    rather than let the test fail at a quarter to midnight."""
    now = datetime.now(PARIS)
    closing = datetime.combine(now.date(), _LAST_MINUTE, PARIS)
    if closing - now < _MARGIN:
        time.sleep((closing - now).total_seconds() + 61)
        now = datetime.now(PARIS)
        closing = datetime.combine(now.date(), _LAST_MINUTE, PARIS)
    opening = datetime.combine(now.date(), clock(0), PARIS)
    start = max(now - before, opening).replace(microsecond=0)
    return start, min(now + after, closing).replace(microsecond=0)


def daytime_zone() -> str:
    """A French time zone where now is between 01:00 and 21:00, so meetings
    starting now or in the next two hours are today's, whatever the hour
    the suite runs at: Paris, or else New Caledonia (9 or 10 hours ahead)."""
    return "Europe/Paris" if 1 <= datetime.now(PARIS).hour < 21 else "Pacific/Noumea"
