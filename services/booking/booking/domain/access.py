"""Who may do what with bookings and places.

The gateway decides which role may call which operation; this module adds
what only the booking service can know: who owns a booking and which site it
belongs to. An agent acts on their own bookings; a site admin on their sites;
an admin everywhere. Other people's bookings are shown without who or why.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import errors

ROLES = ("agent", "site_admin", "admin", "device", "bot")
BOOKING_ROLES = ("agent", "site_admin", "admin")


@dataclass(frozen=True)
class Actor:
    person_id: str | None
    role: str
    site_ids: frozenset[str] = frozenset()
    room_id: str | None = None
    device_id: str | None = None   # a door tablet's id (its gateway token id)

    @classmethod
    def from_wire(cls, data) -> "Actor":
        if not isinstance(data, dict) or data.get("role") not in ROLES:
            raise errors.Forbidden("unknown_caller")
        return cls(
            person_id=data.get("person_id"),
            role=data["role"],
            site_ids=frozenset(data.get("site_ids") or ()),
            room_id=data.get("room_id"),
            device_id=data.get("device_id"),
        )

    def manages(self, site_id: str) -> bool:
        return self.role == "admin" or (self.role == "site_admin" and site_id in self.site_ids)


def require_manager(actor: Actor, site_id: str | None) -> None:
    if site_id is None:
        if actor.role != "admin":
            raise errors.Forbidden("only_an_administrator_may_do_this")
        return
    if not actor.manages(site_id):
        raise errors.Forbidden("you_do_not_administer_this_site")


def booking_person(actor: Actor, requested_person_id: str | None, site_id: str) -> str:
    """The person a new booking is for: oneself, or anyone for a manager."""
    if actor.role not in BOOKING_ROLES:
        raise errors.Forbidden("this_kind_of_account_cannot_book")
    if requested_person_id and requested_person_id != actor.person_id:
        if not actor.manages(site_id):
            raise errors.Forbidden("you_may_only_book_for_yourself")
        return requested_person_id
    if not actor.person_id:
        raise errors.Invalid("this_account_is_not_linked_to", field="person_id")
    return actor.person_id


def may_change(actor: Actor, owner_id: str, site_id: str) -> bool:
    return (actor.person_id is not None and actor.person_id == owner_id) or actor.manages(site_id)


def is_room_device(actor: Actor, booking: dict) -> bool:
    """A door tablet acting on a booking of its own room."""
    return (actor.role == "device" and actor.room_id is not None and actor.device_id is not None
            and str(booking["resource_id"]) == str(actor.room_id))


def require_room_device(actor: Actor) -> str:
    """Booking a room now, for whoever stands at its door: only that room's
    tablet may, and the room is the device's own (never one it names)."""
    if actor.role != "device" or not actor.room_id or not actor.device_id:
        raise errors.Forbidden("only_the_tablet_at_a_room")
    return str(actor.room_id)


def require_attendance(actor: Actor, booking: dict) -> None:
    """Checking in or ending a booking: its owner, a manager, or the tablet at
    its room's door (anyone standing there may do it, as with a paper sign)."""
    if is_room_device(actor, booking):
        return
    require_change(actor, booking["person_id"], booking["site_id"])


def require_change(actor: Actor, owner_id: str, site_id: str) -> None:
    if actor.role not in BOOKING_ROLES or not may_change(actor, owner_id, site_id):
        raise errors.Forbidden("only_own_bookings")


PRIVATE_FIELDS = ("person_id", "title", "series_id", "source", "created_at", "checked_in_at")


def visible_booking(actor: Actor, booking: dict) -> dict:
    """The booking as the actor may see it: whole for its owner and managers,
    otherwise only that the resource is taken and when."""
    if may_change(actor, booking["person_id"], booking["site_id"]):
        return booking
    if is_room_device(actor, booking):
        # The door tablet shows the meeting's title (the gateway hides it when
        # the room is marked private) and whether nobody owns it (a walk-in);
        # the owner's id stays withheld (list_bookings adds their name).
        shown = {k: v for k, v in booking.items() if k not in PRIVATE_FIELDS or k == "title"}
        # (an erased person's anonymised booking has no owner either, but is no walk-in)
        shown["walk_in"] = booking["person_id"] is None and booking.get("source") == "tablet"
        return shown
    return {k: v for k, v in booking.items() if k not in PRIVATE_FIELDS}
