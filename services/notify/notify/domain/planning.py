"""From an event to the messages it causes: which kind, which channels, when.

Pure functions: the use cases read the person's preferences and the site's
rules, call these, and write what they return. Every message is keyed by
``(event_id, channel)``; a reminder or a warning has an event id derived from
the booking (``derived_event_id``) so that it too is sent once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parseaddr

from . import invitation, messages
from .events import (
    BOOKING_CREATED, BOOKING_UPDATED, CANCELLATION, CLOSING, CONFIRMATION, IMMEDIATE,
    NO_SHOW_WARNING, REMINDER, is_from_calendar,
)
from .preferences import Preferences
from .schedule import first_reminder_due, no_show_warning_due

_NAMESPACE = uuid.UUID("7d0a4c52-6a43-4d1b-9a52-3f0e3c1c9a11")


def derived_event_id(kind: str, booking_id: str) -> str:
    """The stable id of a message that no single event caused (reminders, warnings)."""
    return str(uuid.uuid5(_NAMESPACE, f"{kind}:{booking_id}"))


@dataclass(frozen=True)
class Planned:
    """One message to record in the ledger."""

    event_id: str
    channel: str
    kind: str
    person_id: str | None
    booking_id: str | None
    message: dict
    next_attempt_at: datetime
    expires_at: datetime | None = None
    status: str = "pending"            # or "skipped" (with ``reason``)
    reason: str | None = None


@dataclass(frozen=True)
class Sender:
    """Who the invitations come from (the SMTP sender)."""

    address: str
    name: str = "Escale"

    @classmethod
    def parse(cls, header: str) -> "Sender":
        name, address = parseaddr(header)
        return cls(address or "no-reply@escale.invalid", name or "Escale")


@dataclass(frozen=True)
class Plan:
    deliveries: list[Planned] = field(default_factory=list)
    # (kind, due_at) to wait for; kinds to stop waiting for.
    schedule: list[tuple[str, datetime]] = field(default_factory=list)
    cancel: tuple[str, ...] = ()


def email_message(kind: str, event: dict, rendered: messages.Rendered, sender: Sender,
                  now: datetime) -> dict:
    person, booking = event["person"], event["booking"]
    message = {
        "to": person.get("email"),
        "to_name": person.get("display_name") or "",
        "subject": rendered.subject,
        "text": rendered.text,
        "html": rendered.html,
        "language": rendered.language,
        "ics": None,
        "method": None,
    }
    if kind in (CONFIRMATION, CANCELLATION):
        cancel = kind == CANCELLATION
        method = "CANCEL" if cancel else "REQUEST"
        site = (event.get("site") or {}).get("name") or ""
        ctx = messages.context(event, rendered.language)
        message["ics"] = invitation.build(
            method=method, booking=booking,
            summary=f"{ctx['resource']} ({site})" if site else ctx["resource"],
            location=", ".join(x for x in (ctx["resource"], site) if x),
            description=rendered.subject, organizer=sender.address, organizer_name=sender.name,
            attendee=person.get("email") or "", attendee_name=person.get("display_name") or "",
            seq=invitation.sequence(booking, event.get("occurred_at") or "", cancel),
            stamp=now,
        ).decode("utf-8")
        message["method"] = method
    return message


def deliveries(kind: str, event: dict, prefs: Preferences, now: datetime, sender: Sender,
               chat_enabled: bool, event_id: str | None = None, release: datetime | None = None,
               expires_at: datetime | None = None, template: str | None = None) -> list[Planned]:
    """The messages of ``kind`` about ``event`` on the person's chosen channels."""
    person, booking = event["person"], event["booking"]
    rendered = messages.render(kind, event, person.get("language"), release, template)
    when = prefs.quiet_until(now) or now
    if expires_at is not None and when >= expires_at:
        return []  # quiet hours last past the point of the message: say nothing
    planned = []
    for channel in prefs.channels_for(kind):
        common = dict(event_id=event_id or event["event_id"], channel=channel, kind=kind,
                      person_id=person.get("id"), booking_id=booking.get("id"),
                      next_attempt_at=when, expires_at=expires_at)
        if channel == "email":
            if not person.get("email"):
                planned.append(Planned(message={}, status="skipped", reason="no_email", **common))
                continue
            planned.append(Planned(message=email_message(kind, event, rendered, sender, now),
                                   **common))
        elif channel == "chat":
            message = {"text": rendered.chat, "language": rendered.language}
            if not chat_enabled:
                planned.append(Planned(message=message, status="skipped",
                                       reason="no_chat_backend", **common))
            else:
                planned.append(Planned(message=message, **common))
    return planned


def on_event(event: dict, prefs: Preferences, now: datetime, sender: Sender,
             chat_enabled: bool, release_after_minutes: int | None = None,
             warning_lead_minutes: int = 10) -> Plan:
    """What a booking event causes at once, and what it schedules or cancels.

    ``release_after_minutes`` is the site's no-show rule for the resource's
    kind (None or 0: never released, so no warning)."""
    etype = event["type"]
    kind = IMMEDIATE.get(etype)
    # A meeting imported from a room's calendar is in its organiser's calendar
    # already: no confirmation or invitation (nor their cancellation; a
    # conflict is told by ``calendar.conflict``), no reminder, no warning.
    from_calendar = is_from_calendar(event)
    if from_calendar and kind in (CONFIRMATION, CANCELLATION):
        kind = None
    planned: list[Planned] = []
    if kind is not None:
        template = "update" if etype == BOOKING_UPDATED else None
        planned = deliveries(kind, event, prefs, now, sender, chat_enabled, template=template)
    schedule: list[tuple[str, datetime]] = []
    cancel: tuple[str, ...] = ()
    booking = event["booking"]
    if (etype in (BOOKING_CREATED, BOOKING_UPDATED) and booking.get("status") == "confirmed"
            and not from_calendar):
        start = datetime.fromisoformat(booking["start"])
        if start > now:
            timezone = (event.get("site") or {}).get("timezone")
            schedule.append((REMINDER, first_reminder_due(start, timezone)))
        warning = no_show_warning_due(start, release_after_minutes, warning_lead_minutes)
        if warning is not None and warning[1] > now:
            schedule.append((NO_SHOW_WARNING, warning[0]))
    elif etype in CLOSING or etype == BOOKING_UPDATED:
        cancel = (REMINDER, NO_SHOW_WARNING)
    return Plan(planned, schedule, cancel)
