"""Which signal decides a person's status at a given moment.

THE PRECEDENCE ORDER (highest first), one rule for every answer:

    1. temporary status   a status the person set with an end time
                          ("in a meeting until 15:00", "do not disturb")
    2. checked in         a desk or room booking the person checked in to,
                          covering now (a room means "in a meeting")
    3. in a meeting       a room booking covering now, or a calendar busy time
    4. booked for now     a desk booking covering now (not checked in yet)
    5. day plan           the half-day's plan: declared, else made by a desk
                          booking that day, else the weekly pattern
    6. unknown            nothing of the above

Every answer says which of these decided it (``signal``: one of
``temporary_status``, ``check_in``, ``meeting``, ``booking``, ``day_plan``,
or None for unknown). A temporary status does not hide where the person
is: the answer keeps the place the lower signals give.

``timeline`` cuts a whole day into segments of constant answer, so a read
model can serve "now" with a lookup, and ``since``/``until`` bound the
current status exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .model import BookingFact, DayFrame, Signals, Slot


@dataclass(frozen=True)
class Resolution:
    status: str
    signal: str | None
    place: dict | None = None
    label: str | None = None
    plan: Slot | None = None


def resolve(signals: Signals, frame: DayFrame, at: datetime) -> Resolution:
    """The answer at ``at`` (which must fall inside ``frame``)."""
    plan = signals.plan.slot(frame.slot_of(at))
    base = _without_temporary(signals, at, plan)
    temporary = signals.temporary
    if temporary is not None and temporary.covers(at):
        return Resolution(temporary.kind, "temporary_status", base.place, temporary.label,
                          plan if plan.known else None)
    return base


def _without_temporary(signals: Signals, at: datetime, plan: Slot) -> Resolution:
    plan_out = plan if plan.known else None
    live = [b for b in signals.bookings if b.live and b.covers(at)]
    checked_in = [b for b in live if b.status == "checked_in"]
    if checked_in:
        booking = _prefer_room(checked_in)
        status = "in_meeting" if booking.kind == "room" else "on_site"
        return Resolution(status, "check_in", booking.place, None, plan_out)
    rooms = [b for b in live if b.kind == "room"]
    desks = [b for b in live if b.kind == "desk"]
    if rooms or any(busy.covers(at) for busy in signals.busy):
        place = rooms[0].place if rooms else (desks[0].place if desks else _plan_place(signals, plan))
        return Resolution("in_meeting", "meeting", place, None, plan_out)
    if desks:
        return Resolution("on_site", "booking", desks[0].place, None, plan_out)
    if plan.known:
        return Resolution(plan.status, "day_plan", _plan_place(signals, plan), None, plan_out)
    return Resolution("unknown", None, None, None, None)


def _prefer_room(bookings: list[BookingFact]) -> BookingFact:
    rooms = [b for b in bookings if b.kind == "room"]
    return (rooms or bookings)[0]


def _plan_place(signals: Signals, plan: Slot) -> dict | None:
    if plan.status != "on_site" or not plan.site_id:
        return None
    return {"site_id": plan.site_id, "site_name": signals.site_names.get(plan.site_id)}


@dataclass(frozen=True)
class Segment:
    start: datetime
    end: datetime
    resolution: Resolution


def timeline(signals: Signals, frame: DayFrame) -> list[Segment]:
    """The day as consecutive segments of constant answer, covering [start, end)."""
    points = {frame.start, frame.midday, frame.end}
    intervals = [(b.start, b.end) for b in signals.bookings if b.live]
    intervals += [(b.start, b.end) for b in signals.busy]
    if signals.temporary is not None:
        intervals.append((signals.temporary.since, signals.temporary.until))
    for start, end in intervals:
        for point in (start, end):
            if frame.start < point < frame.end:
                points.add(point)
    ordered = sorted(points)
    segments: list[Segment] = []
    for start, end in zip(ordered, ordered[1:]):
        resolution = resolve(signals, frame, start)
        if segments and segments[-1].resolution == resolution:
            segments[-1] = Segment(segments[-1].start, end, resolution)
        else:
            segments.append(Segment(start, end, resolution))
    return segments


def segment_at(segments: list[Segment], at: datetime) -> Segment | None:
    for segment in segments:
        if segment.start <= at < segment.end:
            return segment
    return None


def next_change(segments: list[Segment], after: datetime) -> datetime | None:
    """The first segment boundary strictly after ``after`` (not the day's end)."""
    for segment in segments[:-1]:
        if segment.end > after:
            return segment.end
    return None
