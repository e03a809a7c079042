"""The sync rules: what one side's change does to the other. No I/O.

Each remote occurrence is compared with its link (the booking it already
is, if any) and the engine is told one action. Each Escale booking of a
mapped room is compared with its link to decide whether the remote calendar
must be written. Conflicts (both sides booked the same slot before a sync
saw it) are settled by one rule: the earlier creation wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .items import Occurrence

ACTIVE = ("confirmed", "checked_in")


@dataclass(frozen=True)
class Link:
    """A remote item (occurrence) and the booking it is, as stored."""

    remote_id: str
    occurrence: str
    origin: str  # 'remote' | 'escale'
    state: str  # 'active' | 'gone' | 'rejected'
    etag: str | None
    booking_id: str | None
    booking_version: int
    booking_status: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    title: str | None = None
    version: int = 0  # the booking's current version


# Pull actions
IGNORE = "ignore"      # nothing to do (our own echo, a rejected item, unchanged)
TOUCH = "touch"        # remember the new etag; the booking already matches
CREATE = "create"      # a new meeting: book the room
MOVE = "move"          # times or title changed remotely: update the booking
CANCEL = "cancel"      # cancelled remotely: cancel the booking
ADOPT = "adopt"        # Escale's own item with no link (link lost): relink


@dataclass(frozen=True)
class PullDecision:
    action: str
    reason: str = ""


def decide_pull(occ: Occurrence, link: Link | None) -> PullDecision:
    if link is not None and link.state == "gone":
        link = None  # seen again (back inside the horizon, or recreated): a new meeting
    if link is None:
        if occ.escale_booking_id:
            return PullDecision(ADOPT, "escale_item_without_link")
        if occ.cancelled:
            return PullDecision(IGNORE, "cancelled_before_seen")
        return PullDecision(CREATE)
    if link.state == "rejected":
        return PullDecision(IGNORE, "rejected_in_conflict")
    if link.booking_status not in ACTIVE:
        # Cancelled, released or ended in Escale: the push side removes it.
        return PullDecision(IGNORE, "booking_not_active")
    if occ.cancelled:
        return PullDecision(CANCEL)
    if link.etag is not None and occ.etag == link.etag:
        return PullDecision(IGNORE, "unchanged")
    if (occ.start, occ.end) != (link.start, link.end):
        return PullDecision(MOVE)
    if link.origin == "remote" and occ.title != (link.title or ""):
        return PullDecision(MOVE)
    return PullDecision(TOUCH)


def remote_wins(remote_created: datetime | None, first_seen: datetime,
                booking_created: datetime) -> bool:
    """The earlier creation wins. A remote item that does not say when it was
    created counts from when the sync first saw it; a tie goes to the booking
    already in Escale (it was confirmed to someone first)."""
    return (remote_created or first_seen) < booking_created


# Push actions
PUT = "put"
DELETE = "delete"
NOTHING = "nothing"


def decide_push(booking_status: str, booking_version: int, link: Link | None) -> str:
    """What to write to the room's calendar for one Escale booking.

    Escale-made bookings are mirrored whole (created, moved, extended, ended
    early, cancelled). Imported meetings are the organiser's: Escale only
    removes them from the room's calendar when the room is given back in
    Escale (cancelled by an admin, released as a no-show).
    """
    active = booking_status in ACTIVE
    if link is None:
        return PUT if active else NOTHING
    if link.state != "active" or booking_version <= link.booking_version:
        return NOTHING
    if link.origin == "remote":
        return DELETE if booking_status in ("cancelled", "released") else NOTHING
    if booking_status in ("cancelled", "released"):
        return DELETE
    return PUT
