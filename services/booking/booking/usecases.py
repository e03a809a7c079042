"""Booking use cases: read what a decision needs, decide in the domain, write.

Each function is one transaction of the store (a unit of work): the change
and the events describing it commit together or not at all. No nameko here:
``service.py`` turns messages into these calls, and tests call them directly.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime, timedelta

from .domain import errors, events
from .domain.access import (
    Actor,
    booking_person,
    is_room_device,
    require_attendance,
    require_change,
    require_room_device,
    visible_booking,
)
from .domain.availability import matches, rank_near_team, statuses
from .domain.model import (
    PERIODS,
    RESOURCE_KINDS,
    STATUSES,
    Interval,
    parse_day,
    parse_instant,
    period_interval,
)
from .domain.recurrence import cap_horizon, expand_period, expand_slot
from .domain.rules import check_booking, check_in_window, closure_reason
from .adapters.store import BookingStore, Unit, resource_from_row, site_from_row
from .domain import messages
from .domain.messages import msg

REQUEST_FIELDS = {"resource_id", "start", "end", "date", "period", "rrule", "title", "person_id"}
MAX_TITLE = 200


def _requested_interval(site, request: dict) -> tuple[Interval, str]:
    """The first interval a request asks for, and its period name."""
    if "date" in request or "period" in request:
        if "start" in request or "end" in request:
            raise errors.Invalid("give_either_date_and_period_or", field="date")
        period = request.get("period", "day")
        if period not in PERIODS:
            raise errors.Invalid("period_must_be_day_morning_or", field="period")
        return period_interval(site, parse_day(request.get("date")), period), period
    if "start" not in request or "end" not in request:
        raise errors.Invalid("give_start_and_end_or_date", field="start")
    start = parse_instant(request["start"], "start")
    end = parse_instant(request["end"], "end")
    return Interval(start, end), "slot"


def _validate_request(request) -> dict:
    if not isinstance(request, dict):
        raise errors.Invalid("the_request_must_be_an_object", field=None)
    unknown = set(request) - REQUEST_FIELDS
    if unknown:
        name = sorted(unknown)[0]
        raise errors.Invalid(msg("unknown_field_name", name=name), field=name)
    for name in ("resource_id", "start", "end", "date", "period", "rrule", "title", "person_id"):
        if name in request and not isinstance(request[name], str):
            raise errors.Invalid(msg("name_must_be_a_string", name=name), field=name)
    if "resource_id" not in request:
        raise errors.Invalid("resource_id_is_required", field="resource_id")
    if len(request.get("title", "")) > MAX_TITLE:
        raise errors.Invalid(msg("title_is_max_title_characters_at", max_title=MAX_TITLE),
                             field="title")
    return request


def _event(unit: Unit, event_type: str, now: datetime, booking: dict, resource_row=None, site_row=None):
    resource_row = resource_row or unit.resource_row(booking["resource_id"], active_only=False)
    site_row = site_row or unit.site_row(resource_row["site_id"])
    person = unit.person(booking["person_id"])
    unit.enqueue(
        events.booking_event(
            event_type, now, booking, person,
            {k: str(v) if k.endswith("id") else v for k, v in resource_row.items()},
            {"id": str(site_row["id"]), "name": site_row["name"], "timezone": site_row["timezone"]},
        )
    )


def create_booking(store: BookingStore, now: datetime, actor: Actor, request: dict,
                   idempotency_key: str | None = None, source: str = "api") -> dict:
    request = _validate_request(request)
    if idempotency_key is not None and not (1 <= len(idempotency_key) <= 200):
        raise errors.Invalid("idempotency_key_is_1_to_200", field="Idempotency-Key")
    if idempotency_key is None and "rrule" not in request:
        # The hot path: one read, then one atomic insert of booking and event.
        with store.unit(transaction=False) as unit:
            return _book(unit, now, actor, request, source)
    with store.unit() as unit:
        if idempotency_key is not None:
            key_owner = actor.person_id or request.get("person_id") or "-"
            request_hash = hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()
            earlier = unit.claim_idempotency_key(key_owner, idempotency_key, request_hash)
            if earlier is not None:
                return earlier
        result = _book(unit, now, actor, request, source)
        if idempotency_key is not None:
            unit.store_idempotent_response(key_owner, idempotency_key, result)
        return result


def _book(unit: Unit, now: datetime, actor: Actor, request: dict, source: str) -> dict:
    context = unit.booking_context(request["resource_id"], request.get("person_id") or actor.person_id)
    person_id = booking_person(actor, request.get("person_id"), context.site.id)
    if context.person is None:
        raise errors.NotFound("no_such_person", field="person_id")
    first, period = _requested_interval(context.site, request)
    title = request.get("title", "")

    def book(interval, series_id=None, recurring=False):
        check_booking(context.site, context.rules, context.resource, interval, now,
                      context.team_ids, recurring=recurring)
        booking = context.new_booking(str(uuid.uuid4()), person_id, interval, period, title,
                                      series_id, source, now)
        event = events.booking_event(events.BOOKING_CREATED, now, booking, context.person,
                                     context.resource_event, context.site_event)
        unit.insert_booking(booking, context.resource, interval, actor.person_id, event)
        return booking

    if "rrule" not in request:
        return {"booking": book(first)}
    return _book_series(unit, context.site, context.rules, context.resource, person_id,
                        request, first, period, now, book)


def _book_series(unit, site, rules, resource, person_id, request, first, period, now, book):
    """Book every free occurrence; report each one that is not, with why."""
    rule = request["rrule"]
    if period == "slot":
        occurrences = expand_slot(rule, site, first)
    else:
        occurrences = expand_period(rule, site, site.local_date(first.start), period)
    inside, beyond = cap_horizon(occurrences, site, site.local_date(now), rules.max_recurring_days_ahead)
    series_id = unit.create_series(resource.id, person_id, rule)
    booked, skipped = [], []
    for interval in inside:
        try:
            booked.append(book(interval, series_id, recurring=True))
        except (errors.RuleViolation, errors.Conflict) as exc:
            skip = {"start": interval.start.isoformat(), "end": interval.end.isoformat(),
                    "reason": exc.code, "message": exc.message}
            if "conflict" in exc.details:
                skip["conflict"] = exc.details["conflict"]
            skipped.append(skip)
    for interval in beyond:
        skipped.append({"start": interval.start.isoformat(), "end": interval.end.isoformat(),
                        "reason": errors.TooFarAhead.code,
                        "message": messages.text("bookings_open_days_days_ahead_at",
                                                 days=rules.max_recurring_days_ahead)})
    if not booked:
        reasons = sorted({s["reason"] for s in skipped})
        raise errors.ResourceAlreadyBooked(
            "no_occurrence_of_this_series_could", skipped=skipped, reasons=reasons
        ) if "resource_already_booked" in reasons else errors.RuleViolation(
            "no_occurrence_of_this_series_could", skipped=skipped, reasons=reasons
        )
    return {"series_id": series_id, "bookings": booked, "skipped": skipped}


def get_booking(store: BookingStore, actor: Actor, booking_id: str) -> dict:
    with store.unit() as unit:
        return visible_booking(actor, unit.booking(booking_id))


def list_bookings(store: BookingStore, now: datetime, actor: Actor, person_id=None, start=None,
                  end=None, resource_id=None, status=None) -> list[dict]:
    if status is not None and status not in STATUSES:
        raise errors.Invalid(msg("status_must_be_one_of_values", values=', '.join(STATUSES)),
                             field="status")
    start_at = parse_instant(start, "start") if start else None
    end_at = parse_instant(end, "end") if end else None
    if start_at is None and end_at is None:
        start_at = now - timedelta(days=1)
    with store.unit() as unit:
        rows = unit.bookings(person_id=person_id, resource_id=resource_id, start=start_at,
                             end=end_at, status=status)
        shown = [visible_booking(actor, b) for b in rows]
        if actor.role == "device":
            # The door shows who organises each meeting (issue 5): their name, never their id.
            names = unit.display_names({b["person_id"] for b in rows
                                        if b["person_id"] and is_room_device(actor, b)})
            for row, view in zip(rows, shown):
                if is_room_device(actor, row):
                    view["organiser"] = names.get(row["person_id"])
        return shown


def cancel_booking(store: BookingStore, now: datetime, actor: Actor, booking_id: str,
                   scope: str = "this") -> dict:
    if scope not in ("this", "following"):
        raise errors.Invalid("scope_must_be_this_or_following", field="scope")
    with store.unit() as unit:
        booking = unit.booking(booking_id, for_update=True)
        require_change(actor, booking["person_id"], booking["site_id"])
        targets = [booking]
        if scope == "following" and booking["series_id"]:
            targets = unit.series_from(booking["series_id"], booking["start"])
        cancelled = []
        for target in targets:
            if target["status"] not in ("confirmed", "checked_in"):
                if target["id"] == booking["id"]:
                    raise errors.InvalidState(msg("this_booking_is_already_status",
                                                  status=target['status']),
                                              status=target["status"])
                continue
            if datetime.fromisoformat(target["end"]) <= now:
                if target["id"] == booking["id"]:
                    raise errors.InvalidState("this_booking_is_already_over",
                                              status=target["status"])
                continue
            updated = unit.set_status(target["id"], "cancelled", now)
            _event(unit, events.BOOKING_CANCELLED, now, updated)
            cancelled.append(updated)
        return {"cancelled": cancelled}


def check_in(store: BookingStore, now: datetime, actor: Actor, booking_id: str) -> dict:
    with store.unit() as unit:
        booking = unit.booking(booking_id, for_update=True)
        require_attendance(actor, booking)
        if booking["status"] == "checked_in":
            return visible_booking(actor, booking)  # checking in twice is harmless
        if booking["status"] != "confirmed":
            raise errors.InvalidState(msg("this_booking_is_status", status=booking['status']),
                                      status=booking["status"])
        rules = unit.rules(booking["site_id"], booking["resource_kind"])
        interval = Interval(datetime.fromisoformat(booking["start"]), datetime.fromisoformat(booking["end"]))
        check_in_window(rules, interval, now)
        updated = unit.set_status(booking["id"], "checked_in", now)
        _event(unit, events.BOOKING_CHECKED_IN, now, updated)
        _record_device(unit, actor, updated, "check_in", now)
        return visible_booking(actor, updated)


def end_booking(store: BookingStore, now: datetime, actor: Actor, booking_id: str) -> dict:
    """End a booking that is under way, now ("end early"): the resource is free
    at once (an ended booking no longer blocks it) and ``booking.ended`` is
    published. Its owner, a manager or the tablet at the room's door may."""
    with store.unit() as unit:
        booking = unit.booking(booking_id, for_update=True)
        require_attendance(actor, booking)
        if booking["status"] not in ("confirmed", "checked_in"):
            raise errors.InvalidState(msg("this_booking_is_status", status=booking['status']),
                                      status=booking["status"])
        start, end = datetime.fromisoformat(booking["start"]), datetime.fromisoformat(booking["end"])
        if not start <= now < end:
            raise errors.InvalidState("only_current_booking_ends",
                                      status=booking["status"])
        updated = unit.set_status(booking["id"], "ended", now)
        _event(unit, events.BOOKING_ENDED, now, updated)
        _record_device(unit, actor, updated, "end", now)
        return visible_booking(actor, updated)


EXTENSIONS = (15, 30, 60)


def extend_booking(store: BookingStore, now: datetime, actor: Actor, booking_id: str,
                   minutes: int) -> dict:
    """Extend a booking under way by 15, 30 or 60 minutes when what follows is
    free (the site's rules apply to the longer booking; the next booking is the
    conflict otherwise). Its owner, a manager or the tablet at the room's door."""
    if isinstance(minutes, bool) or minutes not in EXTENSIONS:
        raise errors.Invalid("minutes_must_be_15_30_or", field="minutes")
    with store.unit() as unit:
        booking = unit.booking(booking_id, for_update=True)
        require_attendance(actor, booking)
        if booking["status"] not in ("confirmed", "checked_in"):
            raise errors.InvalidState(msg("this_booking_is_status", status=booking['status']),
                                      status=booking["status"])
        start, end = datetime.fromisoformat(booking["start"]), datetime.fromisoformat(booking["end"])
        if not start <= now < end:
            raise errors.InvalidState("only_current_booking_extends", status=booking["status"])
        context = unit.booking_context(booking["resource_id"], booking["person_id"])
        longer = Interval(start, end + timedelta(minutes=minutes))
        check_booking(context.site, context.rules, context.resource, longer, now, context.team_ids)
        updated = unit.extend_to(booking, context.resource, longer.end, now)
        _event(unit, events.BOOKING_UPDATED, now, updated)
        _record_device(unit, actor, updated, "extend", now)
        return visible_booking(actor, updated)


WALK_IN_MINUTES = (15, 30, 60)


def book_now(store: BookingStore, now: datetime, actor: Actor, minutes: int) -> dict:
    """A door tablet books its room from now for 15, 30 or 60 minutes, for
    whoever stands at the door: a walk-in booking with no owner (``person_id``
    null, source ``tablet``), checked in at once (someone is there), the
    device recorded. Never past the next meeting: the next booking is the
    409 conflict, as is the meeting under way."""
    room_id = require_room_device(actor)
    if isinstance(minutes, bool) or minutes not in WALK_IN_MINUTES:
        raise errors.Invalid("minutes_must_be_15_30_or", field="minutes")
    start = now.replace(second=0, microsecond=0)
    interval = Interval(start, start + timedelta(minutes=minutes))
    with store.unit() as unit:
        context = unit.booking_context(room_id, None)
        if context.resource.kind != "room":
            raise errors.Forbidden("only_a_room_can_be_booked")
        # Nobody's teams: a room kept for some teams is not booked at its door.
        check_booking(context.site, context.rules, context.resource, interval, now, frozenset())
        booking = {**context.new_booking(str(uuid.uuid4()), None, interval, "slot", "", None,
                                         "tablet", now),
                   "status": "checked_in", "checked_in_at": now.isoformat()}
        event = events.booking_event(events.BOOKING_CREATED, now, booking, None,
                                     context.resource_event, context.site_event)
        unit.insert_booking(booking, context.resource, interval, None, event)
        _record_device(unit, actor, booking, "book", now)
        return visible_booking(actor, booking)


def _record_device(unit: Unit, actor: Actor, booking: dict, action: str, now: datetime) -> None:
    """Every action from a door tablet is recorded with the device's id."""
    if actor.role == "device" and actor.device_id:
        unit.record_device_action(booking["id"], actor.device_id, action, now)


def active_bookings(store: BookingStore, start: str, end: str, after: str | None = None,
                    limit: int = 2000) -> dict:
    """A page of active bookings overlapping a period, for consumers that
    rebuild their state (presence after a restart or an emptied Redis)."""
    start_at, end_at = parse_instant(start, "start"), parse_instant(end, "end")
    if end_at <= start_at or end_at - start_at > timedelta(days=62):
        raise errors.Invalid("period_at_most_62_days", field="end")
    if not isinstance(limit, int) or not 1 <= limit <= 5000:
        raise errors.Invalid("limit_1_to_5000", field="limit")
    if after is not None:
        try:
            after = str(uuid.UUID(after))
        except (ValueError, TypeError, AttributeError):
            raise errors.Invalid("after_must_be_a_booking_id", field="after") from None
    with store.unit(transaction=False) as unit:
        items = unit.active_between(start_at, end_at, after, limit)
    return {"items": items, "next": items[-1]["booking"]["id"] if len(items) == limit else None}


FEED_MAX_DAYS = 400
FEED_MAX_ITEMS = 5000


def feed_bookings(store: BookingStore, start: str, end: str, person_id: str | None = None,
                  resource_id: str | None = None, cancelled_since: str | None = None,
                  limit: int = 2000) -> dict:
    """One person's or one resource's bookings over a period, for the
    gateway's iCalendar feeds: every status (with ``sequence`` and
    ``updated_at``), those cancelled or released only if that happened at or
    after ``cancelled_since`` (so subscribed calendars learn of it, then the
    feed forgets it), each with its place and holder. The gateway decides
    what a feed shows; this is not exposed to API callers."""
    if (person_id is None) == (resource_id is None):
        raise errors.Invalid("give_person_id_or_resource_id", field="person_id")
    start_at, end_at = parse_instant(start, "start"), parse_instant(end, "end")
    if end_at <= start_at or end_at - start_at > timedelta(days=FEED_MAX_DAYS):
        raise errors.Invalid(msg("feed_period_at_most", feed_max_days=FEED_MAX_DAYS),
                             field="end")
    since = parse_instant(cancelled_since, "cancelled_since") if cancelled_since else start_at
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= FEED_MAX_ITEMS:
        raise errors.Invalid(msg("limit_1_to_feed_max", feed_max_items=FEED_MAX_ITEMS),
                             field="limit")
    with store.unit(transaction=False) as unit:
        items = unit.feed(start_at, end_at, since, person_id=person_id, resource_id=resource_id,
                          limit=limit)
    return {"items": items, "truncated": len(items) == limit}


def occupancy_report(store: BookingStore, now: datetime, actor: Actor, site_id: str, start: str,
                     end: str, kind: str = "desk") -> dict:
    """Booked vs checked in per day and zone, no-shows and busiest weekdays of a
    site from ``start`` to ``end`` (local dates, both included); its managers only."""
    from datetime import date, time
    from zoneinfo import ZoneInfo

    from .domain.access import require_manager
    from .domain.occupancy import MAX_DAYS, Row, build_report

    require_manager(actor, site_id)
    if kind not in ("desk", "room", "equipment"):
        raise errors.Invalid("kind_must_be_desk_room_or", field="kind")
    try:
        first, last = date.fromisoformat(start), date.fromisoformat(end)
    except (TypeError, ValueError):
        raise errors.Invalid("start_and_end_are_dates_yyyy", field="start") from None
    if last < first or (last - first).days >= MAX_DAYS:
        raise errors.Invalid(msg("ask_for_1_to_max_days", max_days=MAX_DAYS), field="end")
    with store.unit(transaction=False) as unit:
        tz = ZoneInfo(unit.site(site_id).timezone)
        rows, zones = unit.occupancy(
            site_id, datetime.combine(first, time.min, tz) - timedelta(days=1),
            datetime.combine(last, time.min, tz) + timedelta(days=2), kind)
    rows = [Row(start=r["start"], end=r["end"], status=r["status"], checked_in=r["checked_in"],
                zone_id=str(r["zone_id"]) if r["zone_id"] else None) for r in rows]
    return build_report(rows, first, last, tz, now, zones)


def release_no_shows(store: BookingStore, now: datetime, limit: int = 200) -> int:
    """Free what was booked and never checked in ("ghost meetings"), once,
    whatever the number of booking processes (rows claimed with SKIP LOCKED).
    A checked-in booking is never released."""
    with store.unit() as unit:
        due = unit.no_shows(now, limit)
        for booking in due:
            _event(unit, events.BOOKING_RELEASED, now, unit.set_status(booking["id"], "released", now))
        return len(due)


def end_finished(store: BookingStore, now: datetime, limit: int = 200) -> int:
    """Mark checked-in bookings whose time is over as ended (once, whatever the
    number of booking processes: rows are claimed with SKIP LOCKED)."""
    with store.unit() as unit:
        due = unit.checked_in_past_end(now, limit)
        for booking in due:
            _event(unit, events.BOOKING_ENDED, now, unit.set_status(booking["id"], "ended", now))
        return len(due)


def availability(store: BookingStore, now: datetime, actor: Actor, start=None, end=None, date=None,
                 period=None, site_id=None, floor_id=None, zone_id=None, kind=None, attributes=None,
                 min_capacity=None, near_team_id=None, compact=False) -> dict:
    """Status of each matching resource over an interval.

    ``compact`` answers ``[id, status, booking_id, reason]`` rows only: the
    gateway already holds the resources themselves in its event-invalidated
    catalogue cache, and a 500-desk floor is then a few kilobytes on the wire
    instead of ~190 KB.
    """
    scopes = [s for s in (site_id, floor_id, zone_id) if s is not None]
    if len(scopes) != 1:
        raise errors.Invalid("give_exactly_one_of_site_id", field="site_id")
    if kind is not None and kind not in RESOURCE_KINDS:
        raise errors.Invalid("kind_must_be_desk_room_or", field="kind")
    attributes = _attribute_filter(attributes)
    if min_capacity is not None and (not isinstance(min_capacity, int) or min_capacity < 1):
        raise errors.Invalid("min_capacity_must_be_a_positive", field="min_capacity")
    column, scope_id = next((c, v) for c, v in (("site_id", site_id), ("floor_id", floor_id),
                                                 ("zone_id", zone_id)) if v is not None)
    with store.unit(transaction=False) as unit:
        version, teams = unit.version_and_teams(actor.person_id)
        scope = unit.scope_catalogue(version, column, scope_id, kind)
        site = scope.site
        resources = [r for r in scope.resources if matches(r, attributes, min_capacity)]
        if date is not None or period is not None:
            interval = period_interval(site, parse_day(date), period or "day")
        elif start is not None and end is not None:
            interval = Interval(parse_instant(start, "start"), parse_instant(end, "end"))
        else:
            raise errors.Invalid("give_start_and_end_or_date", field="start")
        if interval.minutes > 7 * 24 * 60:
            raise errors.Invalid("ask_for_at_most_7_days", field="end")
        closed = closure_reason(site, site.local_date(interval.start))
        occupations = unit.scope_occupations(column, scope_id, interval)
        ranked = statuses(resources, occupations, actor.person_id, teams, closed and closed.code)
        if near_team_id is not None:
            zones = unit.team_zone_ids(near_team_id)
            anchors = unit.team_anchor_points(near_team_id, sorted({r.floor_id for r in resources}), interval)
            ranked = rank_near_team(ranked, zones, anchors)
        if compact:
            return {
                "start": interval.start.isoformat(),
                "end": interval.end.isoformat(),
                "statuses": [[res.id, status["status"], status.get("booking_id"), status.get("reason")]
                             for res, status in ranked],
            }
        return {
            "start": interval.start.isoformat(),
            "end": interval.end.isoformat(),
            "resources": [{**scope.by_id[res.id], **status} for res, status in ranked],
        }


def _attribute_filter(attributes) -> dict:
    """Attributes wanted, from ``{"screens": 2, "docking_station": true}`` or a list of names."""
    if attributes is None:
        return {}
    if isinstance(attributes, list):
        attributes = {name: True for name in attributes}
    if not isinstance(attributes, dict):
        raise errors.Invalid("attributes_must_be_a_list_of", field="attributes")
    for name, value in attributes.items():
        if not isinstance(name, str) or not isinstance(value, (bool, int)):
            raise errors.Invalid(msg("attribute_name_must_be_true_or", name=name),
                                 field="attributes")
    return attributes
