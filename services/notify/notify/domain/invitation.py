"""Calendar invitations (iCalendar, iTIP) for bookings.

A confirmation carries ``METHOD:REQUEST``; a cancellation ``METHOD:CANCEL``
with ``STATUS:CANCELLED``, the same UID and a higher SEQUENCE, so Outlook and
Thunderbird add, update and remove the same calendar entry. The UID derives
from the booking id (stable across messages and replays). SEQUENCE derives
from the event's time: whole seconds since the booking was created (0 for
the confirmation), plus one for a cancellation. It grows with every change
whatever order the events arrive in, and needs no stored counter. Times are
written in UTC: clients show them in their own time zone.
"""

from __future__ import annotations

from datetime import datetime, timezone

import icalendar

PRODID = "-//Escale//Notify//FR"


def uid(booking_id: str) -> str:
    return f"booking-{booking_id}@escale"


def sequence(booking: dict, occurred_at: str, cancel: bool) -> int:
    try:
        created = datetime.fromisoformat(booking["created_at"])
        when = datetime.fromisoformat(occurred_at)
        seconds = max(0, int((when - created).total_seconds()))
    except (KeyError, TypeError, ValueError):
        seconds = 0
    return seconds + 1 if cancel else seconds


def build(*, method: str, booking: dict, summary: str, location: str, description: str,
          organizer: str, organizer_name: str, attendee: str, attendee_name: str,
          seq: int, stamp: datetime) -> bytes:
    """The .ics text of an invitation (``method`` REQUEST) or cancellation (CANCEL)."""
    if method not in ("REQUEST", "CANCEL"):
        raise ValueError(f"unsupported iTIP method {method}")
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("method", method)
    event = icalendar.Event()
    event.add("uid", uid(booking["id"]))
    event.add("sequence", seq)
    event.add("dtstamp", stamp.astimezone(timezone.utc))
    event.add("dtstart", datetime.fromisoformat(booking["start"]).astimezone(timezone.utc))
    event.add("dtend", datetime.fromisoformat(booking["end"]).astimezone(timezone.utc))
    event.add("summary", summary)
    event.add("location", location)
    event.add("description", description)
    event.add("transp", "OPAQUE")
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    org = icalendar.vCalAddress(f"mailto:{organizer}")
    org.params["cn"] = icalendar.vText(organizer_name)
    event.add("organizer", org)
    att = icalendar.vCalAddress(f"mailto:{attendee}")
    att.params["cn"] = icalendar.vText(attendee_name)
    att.params["role"] = icalendar.vText("REQ-PARTICIPANT")
    # The person booked it themselves: no answer is expected of them.
    att.params["partstat"] = icalendar.vText("ACCEPTED")
    att.params["rsvp"] = icalendar.vText("FALSE")
    event.add("attendee", att)
    cal.add_component(event)
    return cal.to_ical()
