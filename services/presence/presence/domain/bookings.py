"""Booking events into booking facts, whatever order they arrive in.

A booking's life only moves forward: created -> checked in -> one of
cancelled / released / ended. Each event carries the booking's state, so
presence keeps, per booking id, the state of highest *rank* it has seen.
An event that ranks no higher than what is kept changes nothing. Hence:

* the same event twice changes nothing the second time;
* a cancel that arrives before its create is kept (a tombstone), and the
  late create ranks lower: no ghost booking;
* a check-in that arrives before its create is kept, and so on.

``booking.updated`` (a booking extended) reports the booking in its current
state, at that state's rank: among facts of equal rank, the one that
happened last (``occurred_at``) wins, so a late copy of an older state never
undoes an extension.
"""

from __future__ import annotations

from datetime import datetime

from . import errors
from .model import BookingFact, parse_instant, parse_uuid

RANK_OF_STATUS = {"confirmed": 1, "checked_in": 2, "cancelled": 3, "released": 3, "ended": 3}
EVENT_TYPES = ("booking.created", "booking.updated", "booking.checked_in", "booking.cancelled",
               "booking.released", "booking.ended")
# The booking status each event type reports, should its payload disagree.
STATUS_OF_EVENT = {"booking.created": "confirmed", "booking.checked_in": "checked_in",
                   "booking.cancelled": "cancelled", "booking.released": "released",
                   "booking.ended": "ended"}


def rank(status: str) -> int:
    return RANK_OF_STATUS.get(status, 0)


def is_ownerless(payload) -> bool:
    """A walk-in booking made at a door tablet: it has no owner (``person_id``
    null). It says nothing of anyone's presence, so presence leaves it out;
    the room is busy all the same (booking and the tablets know it)."""
    booking = payload.get("booking") if isinstance(payload, dict) else None
    return isinstance(booking, dict) and "person_id" in booking and booking["person_id"] is None


def fact_from_payload(event_type: str, payload: dict) -> BookingFact:
    """The fact a booking event (or a snapshot item, ``event_type=None``) states."""
    if not isinstance(payload, dict) or not isinstance(payload.get("booking"), dict):
        raise errors.Invalid("booking", "not_object")
    booking = payload["booking"]
    resource = payload.get("resource") if isinstance(payload.get("resource"), dict) else {}
    site = payload.get("site") if isinstance(payload.get("site"), dict) else {}
    status = STATUS_OF_EVENT.get(event_type) or booking.get("status")
    if status not in RANK_OF_STATUS:
        raise errors.Invalid("booking.status", "one_of", values=", ".join(RANK_OF_STATUS))
    start = parse_instant(booking.get("start"), "booking.start")
    end = parse_instant(booking.get("end"), "booking.end")
    kind = booking.get("resource_kind") or resource.get("kind") or "desk"
    site_id = booking.get("site_id") or resource.get("site_id")
    place = {
        "site_id": _id_or_none(site_id),
        "site_name": site.get("name"),
        "floor_id": _id_or_none(booking.get("floor_id") or resource.get("floor_id")),
        "zone_id": _id_or_none(booking.get("zone_id") or resource.get("zone_id")),
        "resource_id": parse_uuid(booking.get("resource_id") or resource.get("id"), "booking.resource_id"),
        "resource_code": resource.get("code"),
        "resource_name": booking.get("resource_name") or resource.get("name"),
        "resource_kind": kind,
    }
    return BookingFact(
        booking_id=parse_uuid(booking.get("id"), "booking.id"),
        person_id=parse_uuid(booking.get("person_id"), "booking.person_id"),
        kind=kind, status=status, start=start, end=end, place=place,
    )


def _id_or_none(value) -> str | None:
    return None if value in (None, "") else parse_uuid(value, "booking.site_id")


def supersedes(new_status: str, kept_status: str | None) -> bool:
    return kept_status is None or rank(new_status) > rank(kept_status)


def occurred_at(payload: dict) -> datetime | None:
    try:
        return parse_instant(payload.get("occurred_at"), "occurred_at")
    except errors.Invalid:
        return None
