"""The occupancy report: what was booked, what was used, and the no-shows.

Facilities teams size their floors on two figures: how many places were
booked each day, and how many of those were actually used (checked in).
The gap is the no-shows: bookings whose time came and went without a
check-in (released by the no-show timer, or simply never checked in).
Cancelled bookings count nowhere: the place was given back in time.

Plain Python over booking rows; the SQL that finds them is the adapter's.
A day is the site's local day of the booking's start.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

MAX_DAYS = 366
COUNTED = ("confirmed", "checked_in", "ended", "released")


@dataclass(frozen=True)
class Row:
    """One booking as the report needs it."""

    start: datetime
    end: datetime
    status: str
    checked_in: bool
    zone_id: str | None


def is_no_show(row: Row, now: datetime) -> bool:
    if row.status == "released":
        return True
    return not row.checked_in and row.status in ("confirmed", "ended") and row.end <= now


def _counts() -> dict:
    return {"booked": 0, "checked_in": 0, "no_shows": 0}


def _with_rate(counts: dict) -> dict:
    booked = counts["booked"]
    return {**counts, "no_show_rate": round(counts["no_shows"] / booked, 4) if booked else 0.0}


def build_report(rows: list[Row], first: date, last: date, tz: ZoneInfo, now: datetime,
                 zones: dict[str, dict] | None = None) -> dict:
    """``{"from", "to", "totals", "days", "zones", "busiest_weekdays"}``.

    ``days`` has every day from ``first`` to ``last`` (zeros included, so a
    chart has no holes); ``zones`` every zone that had a booking, plus those
    given in ``zones`` (``{id: {"code", "name"}}``); ``busiest_weekdays``
    the ISO weekdays by average bookings per occurrence, busiest first.
    """
    days = {first + timedelta(days=i): _counts() for i in range((last - first).days + 1)}
    by_zone: dict[str | None, dict] = defaultdict(_counts)
    for zone_id in zones or {}:
        by_zone[zone_id]
    totals = _counts()
    for row in rows:
        if row.status not in COUNTED:
            continue
        day = row.start.astimezone(tz).date()
        if day not in days:
            continue
        no_show = is_no_show(row, now)
        for bucket in (days[day], by_zone[row.zone_id], totals):
            bucket["booked"] += 1
            bucket["checked_in"] += int(row.checked_in)
            bucket["no_shows"] += int(no_show)
    weekdays: dict[int, list[int]] = defaultdict(list)
    for day, counts in days.items():
        weekdays[day.isoweekday()].append(counts["booked"])
    busiest = sorted(
        ({"weekday": wd, "booked": sum(v), "average": round(sum(v) / len(v), 2)} for wd, v in weekdays.items()),
        key=lambda item: (-item["average"], item["weekday"]),
    )
    zone_info = zones or {}
    zone_rows = [
        {"zone_id": zone_id, "zone_code": (zone_info.get(zone_id) or {}).get("code"),
         "zone_name": (zone_info.get(zone_id) or {}).get("name"), **_with_rate(counts)}
        for zone_id, counts in by_zone.items()
    ]
    zone_rows.sort(key=lambda z: (-z["booked"], z["zone_name"] or ""))
    return {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "totals": _with_rate(totals),
        "days": [{"date": day.isoformat(), **_with_rate(c)} for day, c in sorted(days.items())],
        "zones": zone_rows,
        "busiest_weekdays": [b for b in busiest if b["booked"] > 0],
    }


def report_csv_rows(report: dict) -> list[list]:
    """The report as spreadsheet rows: one per day, then one per zone."""
    rows = [["scope", "date_or_zone", "booked", "checked_in", "no_shows", "no_show_rate"]]
    for day in report["days"]:
        rows.append(["day", day["date"], day["booked"], day["checked_in"], day["no_shows"], day["no_show_rate"]])
    for zone in report["zones"]:
        rows.append(["zone", zone["zone_code"] or "", zone["booked"], zone["checked_in"], zone["no_shows"],
                     zone["no_show_rate"]])
    totals = report["totals"]
    rows.append(["total", f"{report['from']}..{report['to']}", totals["booked"], totals["checked_in"],
                 totals["no_shows"], totals["no_show_rate"]])
    return rows
