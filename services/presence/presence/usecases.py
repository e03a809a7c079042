"""Presence use cases: read what a decision needs, decide in the domain, write.

Every change to a person runs in one PostgreSQL transaction that first
locks the person (``Unit.lock_person``), writes the durable change, then
recomputes the person's days and writes them to the Redis read model and
their events to the outbox, before committing. Changes to one person are
therefore applied, projected and published in one order; if Redis is
unreachable the transaction rolls back and the caller (or the event's
redelivery) tries again.

No nameko here: ``service.py`` turns messages into these calls; tests call
them directly with real stores.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Iterable, Protocol
from zoneinfo import ZoneInfo

from .adapters.readmodel import ReadModel, roster_field
from .adapters.store import PresenceStore, Unit
from .domain import errors, events, plans
from .domain.access import Actor, target
from .domain.bookings import fact_from_payload, is_ownerless, occurred_at, rank
from .domain.model import (
    LABEL_MAX, TEMPORARY_KINDS, BookingFact, DayFrame, TemporaryStatus, parse_day, parse_instant,
    parse_uuid,
)
from .domain.model import Busy
from .domain.precedence import next_change
from .domain.privacy import VISIBILITIES, Viewer, hidden, may_see
from .domain.projection import (
    DayView, PersonData, day_view, directory_entry, placeholder_entry, presence_in_doc,
    without_reach,
)
from .domain.search import Index

log = logging.getLogger(__name__)

WHERE_IS_DAYS_AHEAD = 14
STATUS_MAX_HOURS = 12
SEARCH_MAX = 50
BATCH = 200
SNAPSHOT_PAGE = 2000


@dataclass(frozen=True)
class Config:
    tz: ZoneInfo
    tz_name: str
    midday: time
    horizon_days: int

    @classmethod
    def from_settings(cls, settings) -> "Config":
        return cls(settings.tz, settings.timezone, settings.midday, settings.horizon_days)


class BookingPort(Protocol):
    """What presence asks the booking service (its RPC methods)."""

    def active_bookings(self, start: str, end: str, after: str | None = None, limit: int = 2000) -> dict: ...
    def export_people(self, after=None, limit=1000, updated_since=None, person_ids=None) -> dict: ...
    def list_sites(self) -> list[dict]: ...


@dataclass
class Ports:
    store: PresenceStore
    model: ReadModel
    booking: BookingPort
    config: Config


# --- days ----------------------------------------------------------------------------


def frame(cfg: Config, day: date) -> DayFrame:
    return DayFrame(day, cfg.tz, cfg.midday)


def today(cfg: Config, now: datetime) -> date:
    return now.astimezone(cfg.tz).date()


def horizon(cfg: Config, now: datetime) -> list[date]:
    first = today(cfg, now)
    return [first + timedelta(days=i) for i in range(cfg.horizon_days + 1)]


def days_of(cfg: Config, start: datetime, end: datetime) -> list[date]:
    first, last = start.astimezone(cfg.tz).date(), (end - timedelta(microseconds=1)).astimezone(cfg.tz).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)] if last >= first else [first]


# --- the directory -------------------------------------------------------------------------


def site_names(ports: Ports) -> dict[str, str]:
    names = ports.model.sites()
    if not names:
        names = refresh_sites(ports)
    return names


def refresh_sites(ports: Ports) -> dict[str, str]:
    names = {str(s["id"]): s.get("name") or "" for s in ports.booking.list_sites()}
    if names != ports.model.sites():
        ports.model.write_sites(names)
    return names


def entries_for(ports: Ports, person_ids: Iterable[str], fetch: bool = True) -> dict[str, dict]:
    """Directory entries of people; those Redis lacks are fetched from booking."""
    ids = list(dict.fromkeys(person_ids))
    found = ports.model.directory_entries(ids)
    missing = [p for p in ids if p not in found]
    if missing and fetch:
        found.update(_fetch_people(ports, missing))
    return found


def _fetch_people(ports: Ports, person_ids: list[str]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for i in range(0, len(person_ids), 500):
        chunk = person_ids[i:i + 500]
        items = ports.booking.export_people(person_ids=chunk, limit=len(chunk))["items"]
        with ports.store.unit() as unit:
            visibility = unit.visibilities([p["id"] for p in items])
        entries = {p["id"]: directory_entry(p, visibility.get(p["id"])) for p in items if p.get("active", True)}
        ports.model.write_directory(entries, old={})
        out.update(entries)
    return out


def sync_directory(ports: Ports, now: datetime, since: datetime | None) -> list[str]:
    """Copy booking's directory (all of it, or what changed since ``since``) into
    the read model; returns the people whose entry changed."""
    refresh_sites(ports)
    items, after = [], None
    while True:
        page = ports.booking.export_people(
            after=after, limit=1000, updated_since=since.isoformat() if since else None)
        items.extend(page["items"])
        after = page["next"]
        if not after:
            break
    # A round every few seconds usually brings nobody: read only the entries it
    # compares with, not the whole directory (megabytes for a region).
    raw_before = ports.model.raw_directory(None if since is None else (p["id"] for p in items))
    with ports.store.unit() as unit:
        visibility = unit.visibilities(p["id"] for p in items)
    entries, removed = {}, []
    for person in items:
        pid = person["id"]
        if not person.get("active", True):
            if pid in raw_before:
                removed.append(pid)
            continue
        entry = directory_entry(person, visibility.get(pid))
        before = raw_before.get(pid)
        if before is None or json.loads(before) != entry:
            entries[pid] = entry
    if since is None:
        exported = {p["id"] for p in items}
        removed += [pid for pid in raw_before if pid not in exported]
    old = {pid: json.loads(raw_before[pid]) for pid in list(entries) + removed if pid in raw_before}
    if entries or removed or not raw_before:
        ports.model.write_directory(entries, removed, old=old)
    return list(entries) + removed


# --- loading and projecting ---------------------------------------------------------------


def load(unit: Unit, cfg: Config, person_ids: list[str], days: list[date],
         entries: dict[str, dict], now: datetime) -> dict[str, PersonData]:
    first, last = min(days), max(days)
    declared = unit.declared(person_ids, first, last)
    patterns = unit.patterns(person_ids)
    facts: dict[str, list[BookingFact]] = {}
    for fact in unit.facts(person_ids, frame(cfg, first).start, frame(cfg, last).end):
        facts.setdefault(fact.person_id, []).append(fact)
    temporaries = unit.temporaries(person_ids, frame(cfg, first).start)
    busy = unit.busy(person_ids, frame(cfg, first).start)
    return {
        pid: PersonData(pid, entries.get(pid) or placeholder_entry(pid, None), declared.get(pid, {}),
                        patterns.get(pid, {}), facts.get(pid, []), temporaries.get(pid), busy.get(pid, ()))
        for pid in person_ids
    }


def compute(ports: Ports, data: dict[str, PersonData], days: list[date]) -> dict[str, list[DayView]]:
    names = site_names(ports)
    return {pid: [day_view(d, frame(ports.config, day), names, roster_field) for day in days]
            for pid, d in data.items()}


def project(ports: Ports, unit: Unit, person_ids: list[str], now: datetime, *,
            cause: str | None = None, plan_days: list[date] | None = None, emit: bool = True,
            force_presence: bool = False, days: list[date] | None = None,
            pattern: list[dict] | None = None) -> dict[str, list[DayView]]:
    """Recompute people's days in the unit's transaction: write the read model,
    schedule their next status change, enqueue what changed.

    ``plan_days``: the days whose plan may have changed (None: all computed
    days); those beyond the read model's horizon are computed for the events.
    """
    cfg = ports.config
    window = horizon(cfg, now)
    stored = days if days is not None else window
    first = window[0]
    extra = sorted({d for d in (plan_days or []) if d not in stored and d >= first})
    entries = entries_for(ports, person_ids)
    computed = stored + extra
    data = load(unit, cfg, person_ids, computed, entries, now)
    views = compute(ports, data, computed)
    old = ports.model.day_docs([(d, pid) for pid in person_ids for d in stored])
    ports.model.write_days(
        [(v.day, pid, v.doc, v.rosters, v.frame.end)
         for pid in person_ids for v in views[pid] if v.day in stored], old)
    if first in stored:
        schedule = {}
        for pid in person_ids:
            view = views[pid][stored.index(first)]
            nxt = next_change(view.segments, now)
            if nxt is None and view.doc is not None:
                nxt = view.frame.end  # the day's end: tomorrow may differ
            schedule[pid] = nxt.timestamp() if nxt else None
        ports.model.schedule(schedule)
    if emit and cause:
        _enqueue_changes(unit, cfg, data, views, old, now, cause, plan_days, extra, force_presence,
                         pattern, stored.index(first) if first in stored else None)
    return views


def _enqueue_changes(unit, cfg, data, views, old, now, cause, plan_days, extra, force_presence,
                     pattern, today_index):
    first = today(cfg, now)
    for pid, person in data.items():
        entry = person.entry
        team_ids = entry.get("team_ids", [])
        if today_index is not None:
            new_doc = views[pid][today_index].doc
            new_now = presence_in_doc(new_doc, entry, now)
            old_now = presence_in_doc(old.get((first, pid)), entry, now)
            # Also when only later today changed (a meeting booked for 15:00): readers
            # that cache today's document (the gateway) drop it on this event.
            if force_presence or without_reach(new_now) != without_reach(old_now) \
                    or _timeline(new_doc) != _timeline(old.get((first, pid))):
                unit.enqueue(events.presence_changed(now, pid, person.visibility, team_ids,
                                                     first.isoformat(), new_now, cause))
        changed = []
        for view in views[pid]:
            if plan_days is not None and view.day not in plan_days:
                continue
            before = old.get((view.day, pid))
            new_plan = view.plan.to_wire()
            if view.day in extra or before is None or \
                    (before.get("am"), before.get("pm")) != (new_plan["am"], new_plan["pm"]):
                if before is None and view.doc is None and view.day not in extra and pattern is None:
                    continue  # unknown before, unknown now
                changed.append(new_plan)
        if changed or pattern is not None:
            unit.enqueue(events.workplan_changed(now, pid, person.visibility, team_ids, changed,
                                                 cause, pattern))


def _timeline(doc: dict | None):
    return None if doc is None else doc.get("timeline")


# --- reading ------------------------------------------------------------------------------


def viewer_of(ports: Ports, actor: Actor) -> Viewer:
    teams: frozenset[str] = frozenset()
    if actor.person_id:
        entry = entries_for(ports, [actor.person_id]).get(actor.person_id)
        if entry:
            teams = frozenset(entry.get("team_ids", []))
    return Viewer(actor.person_id, actor.role, teams)


def answers(ports: Ports, viewer: Viewer, entries: dict[str, dict], at: datetime,
            now: datetime) -> dict[str, dict]:
    """Presence of each person at ``at`` as ``viewer`` may see it."""
    cfg = ports.config
    day = today(cfg, at)
    visible = [pid for pid, e in entries.items()
               if may_see(viewer, pid, e.get("visibility", "everyone"), e.get("team_ids", []))]
    out = {pid: hidden(e.get("reach", [])) for pid, e in entries.items() if pid not in visible}
    if not visible:
        return out
    if day in horizon(cfg, now) and ports.model.ready_days([day]):
        docs = ports.model.day_docs([(day, pid) for pid in visible])
        for pid in visible:
            out[pid] = presence_in_doc(docs.get((day, pid)), entries[pid], at)
        return out
    with ports.store.unit() as unit:
        data = load(unit, cfg, visible, [day], entries, now)
    views = compute(ports, data, [day])
    for pid in visible:
        out[pid] = presence_in_doc(views[pid][0].doc, entries[pid], at)
    return out


def _moment(cfg: Config, at, now: datetime) -> datetime:
    if at is None:
        return now
    moment = parse_instant(at, "at")
    if not today(cfg, now) <= today(cfg, moment) <= today(cfg, now) + timedelta(days=WHERE_IS_DAYS_AHEAD):
        raise errors.Invalid("at", "date_range", days=WHERE_IS_DAYS_AHEAD)
    return moment


def where_is(ports: Ports, actor: Actor, person_id, at, now: datetime) -> dict:
    pid = parse_uuid(person_id, "person_id")
    moment = _moment(ports.config, at, now)
    viewer = viewer_of(ports, actor)
    entry = entries_for(ports, [pid]).get(pid)
    if entry is None:
        raise errors.NotFound("person_not_found", details={"field": "person_id"})
    return {"person": entry["card"], "presence": answers(ports, viewer, {pid: entry}, moment, now)[pid]}


def find_people(ports: Ports, index: Index, actor: Actor, q, limit, at, now: datetime) -> dict:
    if not isinstance(q, str) or not q.strip() or len(q) > 100:
        raise errors.Invalid("q", "text_length", max=100)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= SEARCH_MAX:
        raise errors.Invalid("limit", "limit", max=SEARCH_MAX)
    moment = _moment(ports.config, at, now)
    matches = index.search(q, limit)
    entries = entries_for(ports, [m.person_id for m in matches], fetch=False)
    presence = answers(ports, viewer_of(ports, actor), entries, moment, now)
    return {"query": q, "matches": [
        {"person": entries[m.person_id]["card"], "presence": presence[m.person_id], "score": m.score}
        for m in matches if m.person_id in entries]}


def roster_visible(viewer: Viewer, field: str, team_id: str | None) -> bool:
    """Filter a roster field (``{visibility}|{sort key}|{person_id}|{team ids}``)."""
    visibility, _, rest = field.partition("|")
    _, _, rest = rest.partition("|")
    person_id, _, teams = rest.partition("|")
    team_ids = teams.split(",") if teams else []
    if team_id is not None and team_id not in team_ids:
        return False
    return may_see(viewer, person_id, visibility, team_ids)


def on_site(ports: Ports, actor: Actor, day, site_id, team_id, now: datetime) -> dict:
    cfg = ports.config
    wanted = today(cfg, now) if day is None else parse_day(day, "date")
    if not today(cfg, now) <= wanted <= today(cfg, now) + timedelta(days=plans.MAX_DAYS_AHEAD):
        raise errors.Invalid("date", "date_range", days=plans.MAX_DAYS_AHEAD)
    site = parse_uuid(site_id, "site_id") if site_id is not None else None
    team = parse_uuid(team_id, "team_id") if team_id is not None else None
    viewer = viewer_of(ports, actor)
    rows: list[tuple[str, dict]] = []
    if wanted in horizon(cfg, now) and ports.model.ready_days([wanted]):
        sites = [site] if site else sorted(ports.model.roster_sites(wanted))
        for s in sites:
            for field, value in ports.model.roster(wanted, s).items():
                if roster_visible(viewer, field, team):
                    rows.append((field.split("|", 2)[1], json.loads(value)))
    else:
        with ports.store.unit() as unit:
            f = frame(cfg, wanted)
            pids = sorted(unit.people_with_state(f.start, f.end, wanted, wanted))
            entries = entries_for(ports, pids)
            data = load(unit, cfg, pids, [wanted], entries, now)
        for pid, views in compute(ports, data, [wanted]).items():
            for s, field, entry in views[0].rosters:
                if (site is None or s == site) and roster_visible(viewer, field, team):
                    rows.append((field.split("|", 2)[1], entry))
    rows.sort(key=lambda r: (r[0], r[1]["person"]["id"]))
    return {"date": wanted.isoformat(), "site_id": site, "team_id": team, "people": [r[1] for r in rows]}


# --- plans -----------------------------------------------------------------------------------


def _plan_answer(ports: Ports, unit: Unit, pid: str, days: list[date], now: datetime,
                 views: dict[str, list[DayView]] | None = None) -> dict:
    if views is None:
        entries = entries_for(ports, [pid])
        views = compute(ports, load(unit, ports.config, [pid], days, entries, now), days)
    by_day = {v.day: v for v in views[pid]}
    pattern = plans.pattern_to_wire(unit.patterns([pid]).get(pid, {}))
    return {"person_id": pid, "days": [by_day[d].plan.to_wire() for d in days if d in by_day],
            "pattern": pattern}


def get_plan(ports: Ports, actor: Actor, start, end, person_id, now: datetime) -> dict:
    pid = target(actor, person_id)
    first, last = parse_day(start, "start"), parse_day(end, "end")
    if not first <= last <= first + timedelta(days=plans.MAX_DAYS_AHEAD - 1):
        raise errors.Invalid("end", "period_range", days=plans.MAX_DAYS_AHEAD)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    with ports.store.unit() as unit:
        return _plan_answer(ports, unit, pid, days, now)


def _known_sites(ports: Ports, entries) -> set[str]:
    """Site ids presence knows, asking booking again if an entry names a new one."""
    names = ports.model.sites()
    wanted = {e.get("site_id") for e in entries if isinstance(e, dict) and isinstance(e.get("site_id"), str)} \
        if isinstance(entries, list) else set()
    if not names or not wanted <= set(names):
        names = refresh_sites(ports)
    return set(names)


def set_plan(ports: Ports, actor: Actor, days, person_id, now: datetime) -> dict:
    pid = target(actor, person_id, write=True)
    changes = plans.check_days(days, today(ports.config, now), _known_sites(ports, days))
    touched = sorted({d for d, _ in changes})
    with ports.store.unit() as unit:
        unit.lock_person(pid)
        unit.set_declared(pid, changes)
        project(ports, unit, [pid], now, cause="plan", plan_days=touched)
        return _plan_answer(ports, unit, pid, touched, now)


def get_pattern(ports: Ports, actor: Actor, person_id) -> dict:
    pid = target(actor, person_id)
    with ports.store.unit() as unit:
        return {"person_id": pid, "pattern": plans.pattern_to_wire(unit.patterns([pid]).get(pid, {}))}


def set_pattern(ports: Ports, actor: Actor, pattern, person_id, now: datetime) -> dict:
    pid = target(actor, person_id, write=True)
    rows = plans.check_pattern(pattern, _known_sites(ports, pattern))
    wire = plans.pattern_to_wire(rows)
    with ports.store.unit() as unit:
        unit.lock_person(pid)
        unit.replace_pattern(pid, rows)
        project(ports, unit, [pid], now, cause="pattern", pattern=wire)
    return {"person_id": pid, "pattern": wire}


# --- temporary status and privacy ----------------------------------------------------------------


def _self_answer(ports: Ports, actor: Actor, pid: str, views, now: datetime) -> dict:
    entry = entries_for(ports, [pid]).get(pid) or placeholder_entry(pid, None)
    presence = presence_in_doc(views[pid][0].doc, entry, now)
    return {"person": entry["card"], "presence": presence}


def set_status(ports: Ports, actor: Actor, kind, until, label, now: datetime) -> dict:
    pid = target(actor, None, write=True)
    if kind not in TEMPORARY_KINDS:
        raise errors.Invalid("kind", "one_of", values=", ".join(TEMPORARY_KINDS))
    ends = parse_instant(until, "until")
    if not now < ends <= now + timedelta(hours=STATUS_MAX_HOURS):
        raise errors.Invalid("until", "until_range", hours=STATUS_MAX_HOURS)
    if label is not None:
        if not isinstance(label, str):
            raise errors.Invalid("label", "not_text")
        label = " ".join(label.split()) or None
        if label is not None and len(label) > LABEL_MAX:
            raise errors.Invalid("label", "too_long", max=LABEL_MAX)
    with ports.store.unit() as unit:
        unit.lock_person(pid)
        unit.set_temporary(pid, TemporaryStatus(kind, now, ends, label))
        views = project(ports, unit, [pid], now, cause="status", plan_days=[])
    return _self_answer(ports, actor, pid, views, now)


def clear_status(ports: Ports, actor: Actor, now: datetime) -> dict:
    pid = target(actor, None, write=True)
    with ports.store.unit() as unit:
        unit.lock_person(pid)
        unit.clear_temporary(pid)
        views = project(ports, unit, [pid], now, cause="status", plan_days=[])
    return _self_answer(ports, actor, pid, views, now)


def get_privacy(ports: Ports, actor: Actor) -> dict:
    pid = target(actor, None)
    with ports.store.unit() as unit:
        return {"person_id": pid, "visibility": unit.visibilities([pid]).get(pid, "everyone")}


def set_privacy(ports: Ports, actor: Actor, visibility, now: datetime) -> dict:
    pid = target(actor, None, write=True)
    if visibility not in VISIBILITIES:
        raise errors.Invalid("visibility", "one_of", values=", ".join(VISIBILITIES))
    def write(unit, entry):
        if entry is not None:  # the roster fields the projection writes carry it
            ports.model.write_directory({pid: {**entry, "visibility": visibility}}, old={pid: entry})
        project(ports, unit, [pid], now, cause="privacy", plan_days=[], force_presence=True)

    entry = entries_for(ports, [pid]).get(pid)
    with ports.store.unit() as unit:
        unit.lock_person(pid)
        unit.set_visibility(pid, visibility)
        write(unit, entry)
    # A directory sync running meanwhile reads visibilities from the database and
    # may have put the old choice back before the commit: once committed, check,
    # and write and project again if so.
    entry = entries_for(ports, [pid], fetch=False).get(pid)
    if entry is not None and entry.get("visibility") != visibility:
        with ports.store.unit() as unit:
            unit.lock_person(pid)
            write(unit, entry)
    return {"person_id": pid, "visibility": visibility}


def refresh_person(ports: Ports, person_id, now: datetime) -> dict:
    """Re-read one person from the directory (after they changed their contacts)."""
    pid = parse_uuid(person_id, "person_id")
    entries = _fetch_people(ports, [pid])
    if pid not in entries:
        raise errors.NotFound("person_not_found", details={"field": "person_id"})
    with ports.store.unit() as unit:
        unit.lock_person(pid)
        # published: the gateway keeps directory entries in memory until told
        project(ports, unit, [pid], now, cause="directory", plan_days=[], force_presence=True)
    return entries[pid]["card"]


# --- booking events ---------------------------------------------------------------------------


def on_booking_event(ports: Ports, event_type: str, payload: dict, now: datetime) -> str:
    """Apply a booking event; ``applied``, ``duplicate``, ``superseded``, or
    ``ownerless`` for a walk-in booking (no person: nothing to apply)."""
    if is_ownerless(payload):
        return "ownerless"
    fact = fact_from_payload(event_type, payload)
    event_id = payload.get("event_id")
    try:
        event_id = parse_uuid(event_id, "event_id") if event_id is not None else None
    except errors.Invalid:
        event_id = None
    cfg = ports.config
    touched = [d for d in days_of(cfg, fact.start, fact.end) if d >= today(cfg, now)]
    entries_for(ports, [fact.person_id])
    with ports.store.unit() as unit:
        unit.lock_person(fact.person_id)
        fresh = unit.claim_event(event_id) if event_id else True
        applied = fresh and unit.apply_fact(fact, rank(fact.status), occurred_at(payload))
        if touched:
            cause = "check_in" if fact.status == "checked_in" else "booking"
            # Only the booking's days change: recomputing and rewriting the whole
            # horizon for each event cost most of presence's CPU under load.
            window = horizon(cfg, now)
            project(ports, unit, [fact.person_id], now, cause=cause, plan_days=touched, emit=applied,
                    days=[d for d in touched if d in window])
    return "applied" if applied else ("superseded" if fresh else "duplicate")


def on_calendar_busy(ports: Ports, payload: dict, now: datetime) -> str:
    """Busy times from a person's own calendar (booking's calendar sync,
    ``calendar.busy``): they replace whatever was said for the window they
    cover, and show as "in a meeting" (no title is ever sent). ``applied``, or
    ``superseded`` when a later report is already stored."""
    if not isinstance(payload, dict):
        raise errors.Invalid("event", "not_object")
    person_id = parse_uuid(payload.get("person_id"), "person_id")
    window, raw_periods = payload.get("window"), payload.get("periods") or []
    if not isinstance(window, dict):
        raise errors.Invalid("window", "not_object")
    if not isinstance(raw_periods, list) or not all(isinstance(p, dict) for p in raw_periods):
        raise errors.Invalid("periods", "not_list")
    start, end = parse_instant(window.get("start"), "window.start"), parse_instant(window.get("end"), "window.end")
    periods = [Busy(parse_instant(p.get("start"), "periods.start"), parse_instant(p.get("end"), "periods.end"))
               for p in raw_periods]
    stamp = parse_instant(payload.get("occurred_at"), "occurred_at")
    if end <= start or any(p.end <= p.start for p in periods):
        raise errors.Invalid("periods", "not_time")
    cfg = ports.config
    touched = [d for d in days_of(cfg, start, end) if d >= today(cfg, now)]
    entries_for(ports, [person_id])
    with ports.store.unit() as unit:
        unit.lock_person(person_id)
        applied = unit.set_busy(person_id, start, end, periods, stamp)
        if applied and touched:
            project(ports, unit, [person_id], now, cause="calendar", plan_days=[])
    return "applied" if applied else "superseded"


# --- keeping the read model whole ------------------------------------------------------------


def reconcile_bookings(ports: Ports, now: datetime) -> set[str]:
    """Align booking facts with ``booking.active_bookings`` for the horizon
    (after a restart, an emptied Redis, or missed events); returns the
    people whose facts changed."""
    cfg = ports.config
    window = horizon(cfg, now)
    start, end = frame(cfg, window[0]).start, frame(cfg, window[-1]).end
    with ports.store.unit() as unit:
        started = unit.conn.execute("SELECT now() AS now").fetchone()["now"]
    seen: set[str] = set()
    changed: set[str] = set()
    after = None
    while True:
        page = ports.booking.active_bookings(start=start.isoformat(), end=end.isoformat(),
                                             after=after, limit=SNAPSHOT_PAGE)
        facts = []
        for item in page["items"]:
            if is_ownerless(item):
                continue  # a walk-in at a room's door: nobody's presence
            try:
                facts.append(fact_from_payload(None, item))
            except errors.DomainError:
                log.warning("snapshot item skipped", extra={"booking_id": (item.get("booking") or {}).get("id")})
        seen.update(f.booking_id for f in facts)
        with ports.store.unit() as unit:
            unit.lock_people(f.person_id for f in facts)
            for fact in facts:
                if unit.apply_fact(fact, rank(fact.status), started):
                    changed.add(fact.person_id)
        after = page["next"]
        if not after:
            break
    with ports.store.unit() as unit:
        gone = unit.live_facts_not_in(start, end, seen, started)
        unit.lock_people(f.person_id for f in gone)
        for fact in gone:
            status = "ended" if fact.status == "checked_in" and fact.end <= now else "cancelled"
            gone_fact = BookingFact(fact.booking_id, fact.person_id, fact.kind, status, fact.start,
                                    fact.end, fact.place)
            if unit.apply_fact(gone_fact, rank(status), started):
                changed.add(fact.person_id)
    return changed


def build_days(ports: Ports, days: list[date], now: datetime, people: Iterable[str] | None = None,
               keep_lock=None, cause: str | None = None, force: bool = False) -> int:
    """(Re)write whole days of the read model for everyone with something to show
    (or only ``people``), then mark the days ready."""
    cfg = ports.config
    if people is None:
        with ports.store.unit() as unit:
            pids = sorted(unit.people_with_state(frame(cfg, min(days)).start, frame(cfg, max(days)).end,
                                                 min(days), max(days)))
    else:
        pids = sorted(set(people))
    entries_for(ports, pids)
    for i in range(0, len(pids), BATCH):
        batch = pids[i:i + BATCH]
        with ports.store.unit() as unit:
            unit.lock_people(batch)
            project(ports, unit, batch, now, days=days, cause=cause, emit=cause is not None,
                    force_presence=force, plan_days=[] if force else None)
        if keep_lock is not None:
            keep_lock()
    if people is None:
        for day in days:
            ports.model.mark_ready(day, frame(cfg, day).end)
    return len(pids)


def status_changes(ports: Ports, now: datetime) -> int:
    """People whose status changes now by the clock alone: publish it."""
    due = ports.model.claim_due(now.timestamp())
    for i in range(0, len(due), BATCH):
        batch = due[i:i + BATCH]
        with ports.store.unit() as unit:
            unit.lock_people(batch)
            project(ports, unit, batch, now, cause="time", plan_days=[], force_presence=True)
    return len(due)


def purge(ports: Ports, now: datetime) -> dict[str, int]:
    cfg = ports.config
    first = today(cfg, now)
    with ports.store.unit() as unit:
        return unit.purge(first, frame(cfg, first).start, now)


@dataclass
class Upkeep:
    """What one process remembers between maintenance rounds."""

    reconciled: bool = False
    next_sync: float = 0.0
    next_full_sync: float = 0.0


FULL_SYNC_SECONDS = 900
SYNC_OVERLAP = timedelta(seconds=120)


def maintain(ports: Ports, now: datetime, upkeep: Upkeep, sync_seconds: int) -> dict:
    """One round of keeping the read model whole; safe to run in every process
    at once (each job takes a Redis lock). Returns what was done."""
    cfg, model = ports.config, ports.model
    done: dict = {}
    meta = model.meta()
    wanted_meta = {"timezone": cfg.tz_name, "midday": cfg.midday.strftime("%H:%M"),
                   "horizon_days": str(cfg.horizon_days)}
    # No meta (an emptied Redis) or another configuration: start afresh. Meta is
    # written only once the directory is whole again, so a reader that sees
    # meta can trust the directory; answers given meanwhile come from the RPC.
    fresh = {k: meta.get(k) for k in wanted_meta} != wanted_meta
    if fresh:
        upkeep.next_full_sync = 0.0
        upkeep.reconciled = False
        done["fresh"] = True
    clock = now.timestamp()
    empty_directory = fresh or model.directory_version() == 0
    if empty_directory or clock >= upkeep.next_full_sync or clock >= upkeep.next_sync:
        full = empty_directory or clock >= upkeep.next_full_sync
        token = model.try_lock("directory", 120)
        if token:
            try:
                synced = model.get_state("directory-synced-at")
                since = None if full or not synced else datetime.fromisoformat(synced) - SYNC_OVERLAP
                changed = sync_directory(ports, now, since)
                model.set_state("directory-synced-at", now.isoformat())
                done["directory"] = len(changed)
                window = horizon(cfg, now)
                ready = sorted(model.ready_days(window))
                if changed and ready and not empty_directory:
                    # new names, teams, contacts or a departure: published, so
                    # caches of the directory (the gateway's) drop them
                    build_days(ports, ready, now, people=changed, cause="directory", force=True)
                if fresh:
                    model.write_meta(cfg.tz_name, wanted_meta["midday"], cfg.horizon_days, now.isoformat())
            finally:
                model.unlock("directory", token)
            upkeep.next_sync = clock + sync_seconds
            if full:
                upkeep.next_full_sync = clock + FULL_SYNC_SECONDS
    window = horizon(cfg, now)
    missing = window if fresh else [d for d in window if d not in model.ready_days(window)]
    if missing or not upkeep.reconciled:
        token = model.try_lock("build", 120)
        if token:
            try:
                keep = lambda: model.extend_lock("build", token, 120)  # noqa: E731
                changed: set[str] = set()
                if window[0] in missing or not upkeep.reconciled:
                    changed = reconcile_bookings(ports, now)
                    upkeep.reconciled = True
                    done["reconciled"] = len(changed)
                if missing:
                    done["built"] = build_days(ports, missing, now, keep_lock=keep)
                present = [d for d in window if d not in missing]
                if changed and present:
                    build_days(ports, present, now, people=changed, keep_lock=keep, cause="booking")
            finally:
                model.unlock("build", token)
    done["status_changes"] = status_changes(ports, now)
    if model.try_lock(f"purge:{today(cfg, now).isoformat()}", 90000):
        done["purged"] = purge(ports, now)
    return done
