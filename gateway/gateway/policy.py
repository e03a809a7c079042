"""Who may do what: the gateway's one authorisation policy (plain Python).

The gateway refuses early what a role can never do; the booking service
enforces the rest given the actor (an agent cancels only their own
bookings, a site admin edits only the buildings, floors and zones of their
sites, privacy of other people's bookings...).

Roles:

* ``agent``: their own bookings, plan, status and privacy, live updates, and reads
  (catalogue, availability, people, presence);
* ``site_admin``: as an agent, plus admin actions on their sites only;
* ``admin``: everything;
* ``bot``: read-only: people search, presence (as the person who asked), availability, catalogue;
* ``device`` (door tablets): reads the catalogue, and its own room through the
  ``/display`` operations (the room comes from its token, never the request).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import Enum


class Role(str, Enum):
    AGENT = "agent"
    SITE_ADMIN = "site_admin"
    ADMIN = "admin"
    DEVICE = "device"
    BOT = "bot"


class Action(str, Enum):
    READ_ME = "me.read"
    READ_CATALOG = "catalog.read"          # sites, site trees, resources, rules
    READ_AVAILABILITY = "availability.read"
    READ_PEOPLE = "people.read"
    BOOK = "booking.create"
    BOOK_FOR_OTHERS = "booking.create_for_others"
    READ_BOOKINGS = "booking.read"
    CANCEL_BOOKING = "booking.cancel"
    CHECK_IN = "booking.check_in"
    MANAGE_CATALOG = "catalog.manage"      # create/update/delete site, building, ... resource
    CREATE_SITE = "catalog.create_site"
    MANAGE_RULES = "rules.manage"
    IMPORT_RESOURCES = "import.resources"
    IMPORT_PEOPLE = "import.people"
    READ_PRESENCE = "presence.read"            # where is X, who is on site, people search
    SET_OWN_PRESENCE = "presence.set_own"      # one's own plan, status, privacy, contacts
    LIVE = "live.subscribe"                    # the live WebSocket
    NOTIFY_PREFERENCES = "notify.preferences"   # one's own notification preferences
    MANAGE_NOTIFICATIONS = "notify.manage"      # dead letters, chat identities (admin)
    MANAGE_DEVICES = "devices.manage"           # pair, list and revoke door tablets (admin)
    MANAGE_TOKENS = "tokens.manage"             # list and revoke any token or session (admin)
    DISPLAY = "display.use"                     # a door tablet's own room (device)
    READ_REPORTS = "reports.read"               # occupancy reports of one's sites (admins)
    EXPORT_OWN_DATA = "personal_data.export_own"   # download what Escale holds about me (GDPR)
    ERASE_OWN_DATA = "personal_data.erase_own"     # erase it
    MANAGE_PERSONAL_DATA = "personal_data.manage"  # export or erase anyone's (admin, audited)
    MANAGE_RETENTION = "retention.manage"          # retention periods, run the job (admin)
    READ_AUDIT = "audit.read"                      # the audit log (admin)
    OWN_FEEDS = "feeds.own"                     # one's own iCalendar subscription URLs
    ROOM_FEEDS = "feeds.rooms"                  # a room's iCalendar subscription URLs (its site)
    MANAGE_CALENDARS = "calendars.manage"       # a site's calendar sync: connection, mappings, sync now


_READS = {Action.READ_ME, Action.READ_CATALOG, Action.READ_AVAILABILITY, Action.READ_PEOPLE,
          Action.READ_PRESENCE}
# What a person does for themselves, beyond bookings (not bots nor devices).
_OWN_PRESENCE = {Action.SET_OWN_PRESENCE, Action.LIVE, Action.OWN_FEEDS}
# One's own personal data (GDPR): download it, erase it.
_OWN_PRESENCE |= {Action.EXPORT_OWN_DATA, Action.ERASE_OWN_DATA}
_OWN_BOOKINGS = {Action.BOOK, Action.READ_BOOKINGS, Action.CANCEL_BOOKING, Action.CHECK_IN,
                 Action.NOTIFY_PREFERENCES}
_SITE_ADMIN = {Action.BOOK_FOR_OTHERS, Action.MANAGE_CATALOG, Action.MANAGE_RULES,
               Action.IMPORT_RESOURCES, Action.READ_REPORTS, Action.ROOM_FEEDS}

_SITE_ADMIN |= {Action.MANAGE_CALENDARS}

ALLOWED: dict[Role, frozenset[Action]] = {
    Role.AGENT: frozenset(_READS | _OWN_BOOKINGS | _OWN_PRESENCE),
    Role.SITE_ADMIN: frozenset(_READS | _OWN_BOOKINGS | _OWN_PRESENCE | _SITE_ADMIN),
    Role.ADMIN: frozenset(Action),
    Role.BOT: frozenset(_READS),
    # A tablet follows its own room live (live_sources.allow_topic limits the topics).
    Role.DEVICE: frozenset({Action.READ_ME, Action.READ_CATALOG, Action.DISPLAY, Action.LIVE}),
}

# Actions a site admin may only take on one of their own sites.
SITE_SCOPED = frozenset(_SITE_ADMIN)


@dataclass(frozen=True)
class Actor:
    """The authenticated caller of one request."""

    token_id: uuid.UUID
    role: Role
    email: str
    person_id: uuid.UUID | None = None
    site_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)
    room_id: uuid.UUID | None = None

    def for_rpc(self) -> dict:
        """The ``actor`` argument of the booking service's RPC methods."""
        actor = {
            "person_id": str(self.person_id) if self.person_id else None,
            "role": self.role.value,
            "site_ids": sorted(str(s) for s in self.site_ids),
            "room_id": str(self.room_id) if self.room_id else None,
        }
        if self.role is Role.DEVICE:
            # A door tablet's id (its token's), so the service records what it did.
            actor["device_id"] = str(self.token_id)
        return actor


class Denied(Exception):
    """The policy refuses; ``reason`` is a message key of the i18n catalogue."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def can(actor: Actor, action: Action, site_id: uuid.UUID | str | None = None) -> bool:
    try:
        check(actor, action, site_id)
        return True
    except Denied:
        return False


def check(actor: Actor, action: Action, site_id: uuid.UUID | str | None = None) -> None:
    """Raise ``Denied`` unless ``actor`` may take ``action`` (on ``site_id`` if given).

    For a site admin, a site-scoped action on a known site must target one of
    their sites; when the site is not known here (``site_id`` None), the
    booking service decides.
    """
    if action not in ALLOWED[actor.role]:
        raise Denied("forbidden_action")
    if actor.role is Role.SITE_ADMIN and action in SITE_SCOPED and site_id is not None:
        if _as_uuid(site_id) not in actor.site_ids:
            raise Denied("forbidden_site")


def check_booking_for(actor: Actor, person_id: uuid.UUID | None) -> None:
    """Booking for someone else needs ``BOOK_FOR_OTHERS``."""
    check(actor, Action.BOOK)
    if person_id is not None and person_id != actor.person_id:
        if Action.BOOK_FOR_OTHERS not in ALLOWED[actor.role]:
            raise Denied("forbidden_other_person")


def _as_uuid(value: uuid.UUID | str) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
