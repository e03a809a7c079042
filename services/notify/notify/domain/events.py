"""The events notify consumes, and what each one means for it.

Booking events (exchange ``booking.events``, see docs/architecture.md) carry
the booking, the person (id, email, display name, language), the resource
and the site: enough to write a message without calling back.
"""

from __future__ import annotations

BOOKING_CREATED = "booking.created"
BOOKING_UPDATED = "booking.updated"
BOOKING_CANCELLED = "booking.cancelled"
BOOKING_CHECKED_IN = "booking.checked_in"
BOOKING_RELEASED = "booking.released"
BOOKING_ENDED = "booking.ended"

BOOKING_EVENTS = (BOOKING_CREATED, BOOKING_UPDATED, BOOKING_CANCELLED, BOOKING_CHECKED_IN,
                  BOOKING_RELEASED, BOOKING_ENDED)

# Calendar sync (booking service, same exchange): both sides booked one slot;
# the earlier creation was kept, the other cancelled (see ``calendar_conflict``).
CALENDAR_CONFLICT = "calendar.conflict"

# Where a booking came from (``booking.source``). A meeting imported from a
# room's calendar is already in its organiser's calendar: notify sends no
# confirmation, invitation, reminder or no-show warning about it.
SOURCE_CALENDAR = "calendar"

# Kinds of message a person can route (preferences are per kind).
CONFIRMATION = "confirmation"      # booking.created and booking.updated, with an invitation
CANCELLATION = "cancellation"      # booking.cancelled, with the invitation's cancellation
REMINDER = "reminder"              # the day before or the morning of
NO_SHOW_WARNING = "no_show_warning"  # check in soon or the booking is released
RELEASED = "released"              # booking.released (no-show)
KINDS = (CONFIRMATION, CANCELLATION, REMINDER, NO_SHOW_WARNING, RELEASED)

# Message sent at once for an event (the others only cancel or schedule).
IMMEDIATE = {
    BOOKING_CREATED: CONFIRMATION,
    BOOKING_UPDATED: CONFIRMATION,
    BOOKING_CANCELLED: CANCELLATION,
    BOOKING_RELEASED: RELEASED,
}
# Events after which nothing is left to remind or warn about.
CLOSING = (BOOKING_CANCELLED, BOOKING_CHECKED_IN, BOOKING_RELEASED, BOOKING_ENDED)


def is_booking_event(event) -> bool:
    return (
        isinstance(event, dict)
        and event.get("type") in BOOKING_EVENTS
        and isinstance(event.get("event_id"), str)
        and isinstance(event.get("booking"), dict)
        and isinstance(event.get("person"), dict)
    )


def is_from_calendar(event) -> bool:
    return isinstance(event, dict) and isinstance(event.get("booking"), dict) \
        and event["booking"].get("source") == SOURCE_CALENDAR


def is_ownerless(event) -> bool:
    """A walk-in booking made at a room's door tablet: nobody owns it
    (``person`` null), so nobody is told anything about it."""
    return (isinstance(event, dict) and event.get("type") in BOOKING_EVENTS
            and isinstance(event.get("booking"), dict) and event.get("person") is None
            and event["booking"].get("person_id") is None)
