"""Events the presence service publishes: past-tense facts, versioned payloads.

This module is the contract consumers read (docs/architecture.md, "Presence
events"). They go out through presence's outbox to the topic exchange
``presence.events`` with the event type as routing key. Every payload:
``{"v": 1, "event_id", "type", "occurred_at", "person_id", "audience", ...}``
where ``audience = {"visibility", "team_ids"}`` lets a consumer that shows
the event to people (the gateway's live hub) apply the person's privacy
choice without calling back.

* ``presence.changed``: the person's presence today changed: their status
  now (a booking, a check-in, a temporary status, a plan, or simply time
  passing: a meeting started, a status expired), what is planned later
  today, their privacy choice, or their directory entry. ``presence`` is the
  answer now without the contact channels, ``date`` the local day, ``cause``
  what moved. Readers that cache a person's read model (the gateway) drop it
  on this event.
* ``workplan.changed``: the plan of some of the person's days changed
  (declared, weekly pattern, or a desk booked or cancelled). ``days`` are
  ``DayPlan`` objects for the days touched within the service's horizon;
  ``pattern`` is the new weekly pattern when it changed, else null.
"""

from __future__ import annotations

import uuid
from datetime import datetime

VERSION = 1
EXCHANGE = "presence.events"
PRESENCE_CHANGED = "presence.changed"
WORKPLAN_CHANGED = "workplan.changed"
EVENT_TYPES = (PRESENCE_CHANGED, WORKPLAN_CHANGED)
CAUSES = ("booking", "check_in", "status", "plan", "pattern", "privacy", "time", "directory",
          "calendar")


def _envelope(event_type: str, occurred_at: datetime, person_id: str, visibility: str,
              team_ids) -> dict:
    return {
        "v": VERSION,
        "event_id": str(uuid.uuid4()),
        "type": event_type,
        "occurred_at": occurred_at.isoformat(),
        "person_id": person_id,
        "audience": {"visibility": visibility, "team_ids": sorted(team_ids)},
    }


def presence_changed(occurred_at: datetime, person_id: str, visibility: str, team_ids,
                     day: str, presence: dict, cause: str) -> dict:
    if cause not in CAUSES:
        raise ValueError(f"unknown cause: {cause}")
    body = {k: v for k, v in presence.items() if k != "reach"}
    return {**_envelope(PRESENCE_CHANGED, occurred_at, person_id, visibility, team_ids),
            "date": day, "presence": body, "cause": cause}


def workplan_changed(occurred_at: datetime, person_id: str, visibility: str, team_ids,
                     days: list[dict], cause: str, pattern: list[dict] | None = None) -> dict:
    if cause not in CAUSES:
        raise ValueError(f"unknown cause: {cause}")
    return {**_envelope(WORKPLAN_CHANGED, occurred_at, person_id, visibility, team_ids),
            "days": days, "pattern": pattern, "cause": cause}
