"""Events calendar sync publishes (through the booking outbox, exchange
``booking.events``, routing key = type). Versioned like booking's own.

- ``calendar.conflict``: both sides booked one slot before a sync saw it; the
  earlier creation was kept and the other cancelled. ``cancelled`` says who
  must be told: an Escale person (``person``) or a calendar organiser
  (``organiser_email``, who may be nobody Escale knows).
- ``calendar.busy``: an agent's busy times from their own calendar over
  ``window``; it replaces whatever was said before for that window. Only
  start and end, never a title.
"""

from __future__ import annotations

import uuid
from datetime import datetime

VERSION = 1
CALENDAR_CONFLICT = "calendar.conflict"
CALENDAR_BUSY = "calendar.busy"


def _envelope(event_type: str, occurred_at: datetime) -> dict:
    return {"v": VERSION, "event_id": str(uuid.uuid4()), "type": event_type,
            "occurred_at": occurred_at.isoformat()}


def conflict(occurred_at: datetime, site_id: str, resource: dict, kept: dict, cancelled: dict,
             site: dict | None = None) -> dict:
    """``kept``/``cancelled``: ``{"side": "escale"|"calendar", "booking_id", "remote_id",
    "start", "end", "title", "person": {id, email, display_name, language} | None,
    "organiser_email"}``. ``site`` (name, time zone) lets notify write the
    times as the site's clocks show them."""
    site = site or {}
    return {**_envelope(CALENDAR_CONFLICT, occurred_at), "site_id": site_id,
            "site": {"id": site_id, "name": site.get("name"), "timezone": site.get("timezone")},
            "resource": {"id": resource["id"], "name": resource.get("name")},
            "kept": kept, "cancelled": cancelled}


def busy(occurred_at: datetime, person_id: str, window_start: datetime, window_end: datetime,
         periods: list[tuple[datetime, datetime]]) -> dict:
    return {**_envelope(CALENDAR_BUSY, occurred_at), "person_id": person_id,
            "window": {"start": window_start.isoformat(), "end": window_end.isoformat()},
            "periods": [{"start": s.isoformat(), "end": e.isoformat()} for s, e in periods]}
