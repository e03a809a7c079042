"""From a person's durable data to what the read model shows (pure functions).

``day_view`` gives, for one person and one day: the day plan, the timeline
of answers (each a full ``Presence``, contacts included), the desks booked
that day, and the roster entries for the sites they are on that day. The
read-model adapter stores them as they are; the gateway and the RPC
fallback read them without recomputing anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from . import plans, precedence, reach as reach_mod
from .model import (
    DAY_MAKING_STATUSES, BookingFact, DayFrame, DayPlan, Signals, Slot, TemporaryStatus,
)
from .privacy import DEFAULT_VISIBILITY
from .search import fold

CARD_FIELDS = ("id", "display_name", "given_name", "family_name", "department", "job_title", "teams")
# A roster lists hundreds of people: its desks say where and when, nothing more.
ROSTER_DESK_FIELDS = ("resource_id", "resource_code", "resource_name", "floor_id", "zone_id", "start",
                      "end", "status")
CONTACT_FIELDS = ("phone_extension", "softphone", "video_url", "chat_handle", "email",
                  "preferred_channel")


def directory_entry(person: dict, visibility: str | None) -> dict:
    """A directory record (booking.export_people item) as presence keeps it."""
    card = {k: person.get(k) for k in CARD_FIELDS}
    card["teams"] = [{"id": t["id"], "code": t.get("code"), "name": t.get("name")}
                     for t in person.get("teams") or []]
    contacts = {k: person.get(k) or "" for k in CONTACT_FIELDS}
    return {
        "card": card,
        "team_ids": sorted(t["id"] for t in card["teams"]),
        "visibility": visibility or DEFAULT_VISIBILITY,
        "contacts": contacts,
        "reach": reach_mod.reach(contacts, None),
    }


def placeholder_entry(person_id: str, visibility: str | None) -> dict:
    """For someone the directory does not know (yet): no name, no contacts."""
    return directory_entry({"id": person_id, "display_name": "", "teams": []}, visibility)


@dataclass
class PersonData:
    person_id: str
    entry: dict
    declared: dict[date, dict[str, Slot]] = field(default_factory=dict)
    pattern: dict[tuple[int, str], tuple] = field(default_factory=dict)
    facts: list[BookingFact] = field(default_factory=list)
    temporary: TemporaryStatus | None = None
    busy: tuple = ()  # Busy periods from the person's own calendar (calendar.busy)

    @property
    def visibility(self) -> str:
        return self.entry.get("visibility") or DEFAULT_VISIBILITY


@dataclass
class DayView:
    day: date
    frame: DayFrame
    plan: DayPlan
    segments: list[precedence.Segment]
    doc: dict | None
    rosters: list[tuple[str, str, dict]]


def presence_of(resolution: precedence.Resolution, start: datetime | None, end: datetime | None,
                contacts: dict, tz=None) -> dict:
    unknown = resolution.status == "unknown"
    return {
        "status": resolution.status,
        "signal": resolution.signal,
        "since": None if unknown or start is None else _iso(start, tz),
        "until": None if unknown or end is None else _iso(end, tz),
        "label": resolution.label,
        "place": resolution.place,
        "plan": resolution.plan.to_wire() if resolution.plan is not None else None,
        "reach": reach_mod.reach(contacts, resolution.status),
    }


def unknown_presence(entry: dict) -> dict:
    return {"status": "unknown", "signal": None, "since": None, "until": None, "label": None,
            "place": None, "plan": None, "reach": entry.get("reach", [])}


def signals_for(data: PersonData, frame: DayFrame, site_names: dict[str, str]) -> Signals:
    facts = tuple(f for f in data.facts if f.overlaps(frame.start, frame.end))
    pattern = {slot: Slot(status, site) for (weekday, slot), (status, site) in data.pattern.items()
               if weekday == frame.day.isoweekday()}
    plan = plans.day_plan(frame, data.declared.get(frame.day, {}), facts, pattern)
    temporary = data.temporary
    if temporary is not None and not (temporary.since < frame.end and frame.start < temporary.until):
        temporary = None
    busy = tuple(b for b in data.busy if b.start < frame.end and frame.start < b.end)
    return Signals(plan=plan, bookings=facts, temporary=temporary, busy=busy, site_names=site_names)


def day_view(data: PersonData, frame: DayFrame, site_names: dict[str, str],
             roster_field) -> DayView:
    """``roster_field(visibility, sort_key, person_id, team_ids)`` names a roster entry."""
    signals = signals_for(data, frame, site_names)
    segments = precedence.timeline(signals, frame)
    contacts = data.entry.get("contacts", {})
    desks = sorted((f for f in signals.bookings if f.kind == "desk" and f.status in DAY_MAKING_STATUSES),
                   key=lambda f: f.start)
    desk_views = [_with_site_name({**f.desk_view(), "start": _iso(f.start, frame.tz),
                                   "end": _iso(f.end, frame.tz)}, site_names) for f in desks]
    all_unknown = all(s.resolution.status == "unknown" for s in segments)
    if all_unknown and not desk_views and not signals.plan.am.known and not signals.plan.pm.known:
        return DayView(frame.day, frame, signals.plan, segments, None, [])
    site_ids = signals.plan.on_site_ids()
    for d in desk_views:
        if d.get("site_id") and d["site_id"] not in site_ids:
            site_ids.append(d["site_id"])
    card = data.entry.get("card", {})
    sort_key = fold(card.get("display_name") or "").strip()
    rosters = []
    for site_id in site_ids:
        entry = {"person": card, "site_id": site_id, "am": signals.plan.am.to_wire(),
                 "pm": signals.plan.pm.to_wire(),
                 "desks": [{k: d.get(k) for k in ROSTER_DESK_FIELDS}
                           for d in desk_views if d.get("site_id") == site_id]}
        field_name = roster_field(data.visibility, sort_key, data.person_id, data.entry.get("team_ids", []))
        rosters.append((site_id, field_name, entry))
    doc = {
        "v": 1,
        "person_id": data.person_id,
        "date": frame.day.isoformat(),
        "am": signals.plan.am.to_wire(),
        "pm": signals.plan.pm.to_wire(),
        "desks": desk_views,
        "timeline": [{"from": _iso(s.start, frame.tz), "until": _iso(s.end, frame.tz),
                      "presence": presence_of(s.resolution, s.start, s.end, contacts, frame.tz)}
                     for s in segments],
        "roster": [[site, f] for site, f, _ in rosters],
    }
    return DayView(frame.day, frame, signals.plan, segments, doc, rosters)


def _iso(moment: datetime, tz) -> str:
    """Times are shown in the organisation's time zone."""
    return (moment.astimezone(tz) if tz is not None else moment).isoformat()


def _with_site_name(view: dict, site_names: dict[str, str]) -> dict:
    if view.get("site_id") and not view.get("site_name"):
        view = {**view, "site_name": site_names.get(view["site_id"])}
    return view


def presence_in_doc(doc: dict | None, entry: dict, at: datetime) -> dict:
    """The answer at ``at`` from a stored day document (None: nothing known)."""
    if doc is None:
        return unknown_presence(entry)
    stamp = at.timestamp()
    for segment in doc["timeline"]:
        if datetime.fromisoformat(segment["from"]).timestamp() <= stamp < \
                datetime.fromisoformat(segment["until"]).timestamp():
            return segment["presence"]
    return unknown_presence(entry)


def without_reach(presence: dict) -> dict:
    return {k: v for k, v in presence.items() if k != "reach"}
