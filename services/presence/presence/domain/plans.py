"""Work plans: which plan applies to a half-day, and checking what people declare.

For each half-day (``am``/``pm``) the plan is, first that applies:

    1. a declaration for that date ("on site at Hôtel de Ville", "remote", "off",
       "on mission"): what the person said wins;
    2. a desk booking overlapping the half-day (confirmed, checked in or ended):
       booking a desk makes the day "on site" at the desk's site. Nothing is
       copied, so cancelling the booking (or a no-show release) undoes it;
    3. the weekly pattern for that weekday ("remote every Friday");
    4. unknown.

Plans never hold a reason: "off" is only "off".
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Iterable

from . import errors
from .model import (
    DAY_MAKING_STATUSES, PERIODS, PLAN_STATUSES, SLOTS, BookingFact, DayFrame, DayPlan, Slot,
    parse_day, parse_uuid,
)

MAX_DAYS_AHEAD = 62
MAX_ENTRIES = 62 * 2
MAX_PATTERN_ENTRIES = 14


def day_plan(frame: DayFrame, declared: dict[str, Slot], bookings: Iterable[BookingFact],
             pattern: dict[str, Slot]) -> DayPlan:
    """The plan of ``frame``'s day. ``declared``/``pattern`` map slot -> Slot."""
    slots = {}
    desk_bookings = [b for b in bookings if b.kind == "desk" and b.status in DAY_MAKING_STATUSES]
    for slot in SLOTS:
        if slot in declared:
            slots[slot] = Slot(declared[slot].status, declared[slot].site_id, "declared")
            continue
        start, end = frame.slot_bounds(slot)
        booked = sorted((b for b in desk_bookings if b.overlaps(start, end)),
                        key=lambda b: b.start)
        if booked:
            slots[slot] = Slot("on_site", booked[0].place.get("site_id"), "booking")
        elif slot in pattern:
            slots[slot] = Slot(pattern[slot].status, pattern[slot].site_id, "pattern")
        else:
            slots[slot] = Slot()
    return DayPlan(frame.day, slots["am"], slots["pm"])


def _status_and_site(entry: dict, where: str, known_sites) -> tuple[str | None, str | None]:
    status = entry.get("status")
    site_id = entry.get("site_id")
    if status is not None and status not in PLAN_STATUSES:
        raise errors.Invalid(f"{where}.status", "one_of", values=", ".join(PLAN_STATUSES) + ", null")
    if status == "on_site":
        if site_id is None:
            raise errors.Invalid(f"{where}.site_id", "site_required")
        site_id = parse_uuid(site_id, f"{where}.site_id")
        if known_sites is not None and site_id not in known_sites:
            raise errors.Invalid(f"{where}.site_id", "unknown_site")
    elif site_id is not None:
        raise errors.Invalid(f"{where}.site_id", "site_refused")
    return status, site_id


def _period(entry: dict, where: str) -> tuple[str, ...]:
    period = entry.get("period", "day")
    if period not in PERIODS:
        raise errors.Invalid(f"{where}.period", "one_of", values=", ".join(PERIODS))
    return PERIODS[period]


def _entries(value: Any, name: str, high: int) -> list[dict]:
    if not isinstance(value, list):
        raise errors.Invalid(name, "not_list")
    if not 1 <= len(value) <= high:
        raise errors.Invalid(name, "count_range", low=1 if name == "days" else 0, high=high)
    for i, entry in enumerate(value):
        if not isinstance(entry, dict):
            raise errors.Invalid(f"{name}[{i}]", "not_object")
    return value


def check_days(days: Any, today: date, known_sites=None) -> dict[tuple[date, str], tuple[str | None, str | None]]:
    """``set_plan``'s ``days`` as {(date, slot): (status or None to clear, site_id)}."""
    allowed = {"date", "period", "status", "site_id"}
    out: dict[tuple[date, str], tuple[str | None, str | None]] = {}
    for i, entry in enumerate(_entries(days, "days", MAX_ENTRIES)):
        where = f"days[{i}]"
        unknown = set(entry) - allowed
        if unknown:
            raise errors.Invalid(f"{where}.{sorted(unknown)[0]}", "unknown_field")
        if "status" not in entry:
            raise errors.Invalid(f"{where}.status", "one_of",
                                 values=", ".join(PLAN_STATUSES) + ", null")
        day = parse_day(entry.get("date"), f"{where}.date")
        if not today <= day <= today + timedelta(days=MAX_DAYS_AHEAD):
            raise errors.Invalid(f"{where}.date", "date_range", days=MAX_DAYS_AHEAD)
        status, site_id = _status_and_site(entry, where, known_sites)
        for slot in _period(entry, where):
            if (day, slot) in out:
                raise errors.Invalid(where, "duplicate")
            out[(day, slot)] = (status, site_id)
    return out


def check_pattern(pattern: Any, known_sites=None) -> dict[tuple[int, str], tuple[str, str | None]]:
    """``set_pattern``'s ``pattern`` as {(weekday, slot): (status, site_id)} (may be empty)."""
    if isinstance(pattern, list) and not pattern:
        return {}
    allowed = {"weekday", "period", "status", "site_id"}
    out: dict[tuple[int, str], tuple[str, str | None]] = {}
    for i, entry in enumerate(_entries(pattern, "pattern", MAX_PATTERN_ENTRIES)):
        where = f"pattern[{i}]"
        unknown = set(entry) - allowed
        if unknown:
            raise errors.Invalid(f"{where}.{sorted(unknown)[0]}", "unknown_field")
        weekday = entry.get("weekday")
        if not isinstance(weekday, int) or isinstance(weekday, bool) or not 1 <= weekday <= 7:
            raise errors.Invalid(f"{where}.weekday", "weekday")
        status, site_id = _status_and_site(entry, where, known_sites)
        if status is None:
            raise errors.Invalid(f"{where}.status", "one_of", values=", ".join(PLAN_STATUSES))
        for slot in _period(entry, where):
            if (weekday, slot) in out:
                raise errors.Invalid(where, "duplicate")
            out[(weekday, slot)] = (status, site_id)
    return out


def pattern_to_wire(rows: dict[tuple[int, str], tuple[str, str | None]]) -> list[dict]:
    """Normalised pattern: a weekday whose halves agree is one ``day`` entry."""
    out = []
    for weekday in range(1, 8):
        am, pm = rows.get((weekday, "am")), rows.get((weekday, "pm"))
        if am is not None and am == pm:
            out.append({"weekday": weekday, "period": "day", "status": am[0], "site_id": am[1]})
            continue
        if am is not None:
            out.append({"weekday": weekday, "period": "morning", "status": am[0], "site_id": am[1]})
        if pm is not None:
            out.append({"weekday": weekday, "period": "afternoon", "status": pm[0], "site_id": pm[1]})
    return out
