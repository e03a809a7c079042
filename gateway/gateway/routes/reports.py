"""Occupancy reports for administrators: booked vs checked in per day and
zone, no-show rate, busiest weekdays (``booking.occupancy_report``), as JSON
for the web app's charts or as a CSV file for a spreadsheet."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Literal
from uuid import UUID

from aiohttp import web
from pydantic import Field, model_validator

from ..errors import ApiError
from ..openapi import Call
from ..policy import Action
from ..schemas import Out, Query
from . import api
from .common import ok

TAG = "administration"
MAX_DAYS = 366


class OccupancyQuery(Query):
    site_id: UUID
    from_: date = Field(alias="from", description="first day, YYYY-MM-DD (the site's local days)")
    to: date = Field(description="last day, included")
    kind: Literal["desk", "room", "equipment"] = "desk"

    @model_validator(mode="after")
    def _period(self):
        if self.to < self.from_ or (self.to - self.from_).days >= MAX_DAYS:
            raise ApiError("invalid", "report_period", details={"field": "to"})
        return self


class OccupancyCounts(Out):
    booked: int
    checked_in: int
    no_shows: int
    no_show_rate: float


class OccupancyDay(OccupancyCounts):
    date: date


class OccupancyZone(OccupancyCounts):
    zone_id: UUID | None = None
    zone_code: str | None = None
    zone_name: str | None = None


class BusyWeekday(Out):
    weekday: int
    booked: int
    average: float


class OccupancyReport(Out):
    from_: date = Field(alias="from")
    to: date
    totals: OccupancyCounts
    days: list[OccupancyDay]
    zones: list[OccupancyZone]
    busiest_weekdays: list[BusyWeekday]


async def _report(call: Call) -> dict:
    q: OccupancyQuery = call.query
    call.check(Action.READ_REPORTS, q.site_id)
    return await call.rpc("occupancy_report", actor=call.actor.for_rpc(), site_id=str(q.site_id),
                          start=q.from_.isoformat(), end=q.to.isoformat(), kind=q.kind)


@api.get("/reports/occupancy", summary="Occupancy of a site: booked vs checked in per day and zone",
         tag=TAG, action=Action.READ_REPORTS, query=OccupancyQuery, response=OccupancyReport,
         description="No-shows are bookings whose time passed without a check-in (released or "
                     "not); cancelled bookings count nowhere. At most 366 days.")
async def occupancy_report(call: Call):
    return ok(await _report(call))


@api.get("/reports/occupancy.csv", summary="The occupancy report as a CSV file", tag=TAG,
         action=Action.READ_REPORTS, query=OccupancyQuery,
         description="One row per day, then per zone, then the total (UTF-8, comma-separated).")
async def occupancy_report_csv(call: Call):
    report = await _report(call)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["scope", "date_or_zone", "booked", "checked_in", "no_shows", "no_show_rate"])
    for day in report["days"]:
        writer.writerow(["day", day["date"], day["booked"], day["checked_in"], day["no_shows"],
                         day["no_show_rate"]])
    for zone in report["zones"]:
        writer.writerow(["zone", zone.get("zone_code") or "", zone["booked"], zone["checked_in"],
                         zone["no_shows"], zone["no_show_rate"]])
    totals = report["totals"]
    writer.writerow(["total", f"{report['from']}..{report['to']}", totals["booked"],
                     totals["checked_in"], totals["no_shows"], totals["no_show_rate"]])
    name = f"occupancy-{report['from']}-{report['to']}.csv"
    return web.Response(text=out.getvalue(), content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
