"""Events the booking service publishes: past-tense facts, versioned payloads.

This module is the contract consumers read (see docs/architecture.md). Each
payload carries its own ``event_id`` so consumers can drop redeliveries, and
enough about the booking, person, resource and site to act without calling
back.
"""

from __future__ import annotations

import uuid
from datetime import datetime

VERSION = 1

BOOKING_CREATED = "booking.created"
BOOKING_UPDATED = "booking.updated"
BOOKING_CANCELLED = "booking.cancelled"
BOOKING_CHECKED_IN = "booking.checked_in"
BOOKING_RELEASED = "booking.released"
BOOKING_ENDED = "booking.ended"
RESOURCE_CHANGED = "resource.changed"

BOOKING_EVENTS = (
    BOOKING_CREATED,
    BOOKING_UPDATED,
    BOOKING_CANCELLED,
    BOOKING_CHECKED_IN,
    BOOKING_RELEASED,
    BOOKING_ENDED,
)

EXCHANGE = "booking.events"


def _envelope(event_type: str, occurred_at: datetime) -> dict:
    return {
        "v": VERSION,
        "event_id": str(uuid.uuid4()),
        "type": event_type,
        "occurred_at": occurred_at.isoformat(),
    }


def booking_event(
    event_type: str,
    occurred_at: datetime,
    booking: dict,
    person: dict | None,
    resource: dict,
    site: dict,
) -> dict:
    """``person`` is None for a walk-in booking made at a door tablet: it has
    no owner, and consumers get ``"person": null``."""
    if event_type not in BOOKING_EVENTS:
        raise ValueError(f"not a booking event: {event_type}")
    return {
        **_envelope(event_type, occurred_at),
        "booking": booking,
        "person": None if person is None else {
            k: person.get(k) for k in ("id", "email", "display_name", "language")},
        "resource": {
            k: resource.get(k)
            for k in ("id", "code", "name", "kind", "site_id", "floor_id", "zone_id")
        },
        "site": {k: site.get(k) for k in ("id", "name", "timezone")},
    }


def resource_changed(
    occurred_at: datetime, entity: str, change: str, entity_id: str, data: dict | None
) -> dict:
    if change not in ("created", "updated", "deleted"):
        raise ValueError(f"unknown change: {change}")
    return {
        **_envelope(RESOURCE_CHANGED, occurred_at),
        "entity": entity,
        "change": change,
        "id": entity_id,
        "data": data,
    }
