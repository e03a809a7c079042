"""The port between the calendar sync engine and a calendar server.

A *backend* speaks one protocol (CalDAV, Exchange Web Services, Microsoft
Graph) and exposes the four operations the engine needs, nothing more:

- ``changes``: what changed in one calendar since a sync token (a CalDAV
  sync-token, an EWS SyncState, a Graph deltaLink), or the whole calendar
  when the token is ``None``;
- ``put`` / ``delete``: write an Escale booking into a room's calendar;
- ``busy``: start and end of an agent's own meetings, never their titles.

A *calendar_ref* is the backend's own name for one calendar, stored as is in
Escale's mapping tables: a CalDAV collection URL (or path below the server
URL), a room mailbox's SMTP address for EWS, a mailbox address (optionally
``mailbox/calendarId``) for Graph.

Loop prevention: every item Escale writes carries the UID
``booking-<booking id>@escale`` (the same UID as notify's e-mail invitations,
so a calendar client merges them) and a marker holding the booking id (a
CalDAV ``X-ESCALE-BOOKING-ID`` property, an EWS/Graph extended property). A
backend that sees either on an item it lists fills
``RemoteItem.escale_booking_id``; the engine then treats the item as an echo
of its own write, never as a new meeting.

Recurring series: a backend either returns one ``RemoteItem`` per occurrence
(Graph's calendarView delta does; set ``series_remote_id``) or the raw
iCalendar text of the whole series in ``RemoteItem.ical`` (CalDAV; EWS
``MimeContent``). The engine parses and validates ``ical`` itself (missing
end, unknown time zone, all-day, RRULE with exceptions expanded within the
booking horizon), so backends stay thin. When ``ical`` is set the structured
fields are a best-effort summary and may be left empty.

A backend may skip an item it cannot read at all; it reports it in
``ChangeSet.skipped`` with a reason, and the engine logs it. One broken item
never makes ``changes`` raise.

This module does no I/O. Backends live in their own modules and are loaded
by name from :data:`BACKENDS` only when a site uses them. Each such module
exposes ``create(config: BackendConfig) -> CalendarBackend``.
"""

from __future__ import annotations

import importlib
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Callable, Protocol, runtime_checkable

log = logging.getLogger(__name__)

UID_DOMAIN = "escale"
MARKER_PROPERTY = "X-ESCALE-BOOKING-ID"
_UID_RE = re.compile(r"^booking-([0-9a-fA-F-]{36})@escale$")


def booking_uid(booking_id: str) -> str:
    """The stable UID of the calendar item mirroring an Escale booking."""
    return f"booking-{booking_id}@{UID_DOMAIN}"


def booking_id_from_uid(uid: str | None) -> str | None:
    """The booking id inside an Escale UID, or ``None`` for anyone else's UID."""
    if not uid:
        return None
    match = _UID_RE.match(uid.strip())
    return match.group(1).lower() if match else None


# --- what a backend returns -------------------------------------------------


@dataclass(frozen=True)
class RemoteItem:
    """One item as a calendar server lists it.

    ``start``/``end`` are timezone-aware, or ``None`` when the server gave
    none (the engine decides what a missing end means). ``all_day`` items
    carry midnight-to-midnight instants in the item's time zone, or in UTC
    when it has none. ``size`` is the raw item's size in bytes, so the engine
    can ignore a huge description rather than store it.
    """

    remote_id: str
    uid: str | None = None
    etag: str | None = None  # CalDAV ETag, EWS ChangeKey, Graph @odata.etag
    start: datetime | None = None
    end: datetime | None = None
    all_day: bool = False
    timezone: str | None = None  # the time zone name as the server wrote it
    title: str | None = None
    organiser_email: str | None = None
    created: datetime | None = None
    escale_booking_id: str | None = None
    cancelled: bool = False
    size: int = 0
    series_remote_id: str | None = None  # set on one occurrence of a series
    ical: str | None = None  # the VCALENDAR text, when the server speaks iCalendar


@dataclass(frozen=True)
class SkippedItem:
    """An item the backend could not read; ``reason`` is a short code for logs."""

    remote_id: str
    reason: str


@dataclass(frozen=True)
class ChangeSet:
    """The answer to ``changes``.

    ``full`` is true when ``items`` is the whole calendar (token ``None`` or a
    backend that had to list everything): then any linked item missing from
    ``items`` was deleted remotely. ``deleted_ids`` lists remote ids removed
    since the token (incremental rounds). ``next_token`` is stored and given
    back next round; ``None`` means the server offers no token.
    """

    items: list[RemoteItem] = field(default_factory=list)
    deleted_ids: list[str] = field(default_factory=list)
    next_token: str | None = None
    full: bool = False
    skipped: list[SkippedItem] = field(default_factory=list)


@dataclass(frozen=True)
class BusyPeriod:
    start: datetime
    end: datetime


@dataclass(frozen=True)
class RemoteRef:
    """Where ``put`` stored an item: its id and version in the remote calendar."""

    remote_id: str
    etag: str | None = None
    uid: str | None = None


# --- what the engine writes -------------------------------------------------


@dataclass(frozen=True)
class OutgoingItem:
    """An Escale booking as it should appear in a room's calendar.

    ``uid`` is :func:`booking_uid` of the booking; backends write it as the
    iCalendar UID (CalDAV), and write ``booking_id`` in the marker property.
    ``sequence`` only grows. ``cancelled`` items are written as cancelled
    (``STATUS:CANCELLED``, ``IsCancelled``) by backends that keep them;
    the engine normally calls ``delete`` instead.
    """

    booking_id: str
    uid: str
    start: datetime
    end: datetime
    title: str
    time_zone: str = "UTC"  # the site's zone, for clients showing wall times
    organiser_email: str | None = None
    description: str = ""
    sequence: int = 0
    cancelled: bool = False


# --- errors -----------------------------------------------------------------


class BackendError(Exception):
    """Base of the errors a backend raises. Messages never hold credentials."""


class SyncTokenInvalid(BackendError):
    """The server refused the sync token (expired, unknown): list everything."""


class BackendUnavailable(BackendError):
    """Temporary: timeout, 5xx, throttling. Retry later, after ``retry_after`` seconds if given."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class BackendAuthError(BackendError):
    """The server refused our credentials (401/403): an admin must act; no retry."""


class CalendarNotFound(BackendError):
    """The calendar_ref names no calendar on this server (mapping to fix)."""


# --- the port ---------------------------------------------------------------


@runtime_checkable
class CalendarBackend(Protocol):
    """What every backend implements. Calls block (they run in green threads).

    Implementations count the HTTP requests they make in ``calls`` (an int
    attribute), which the sync run records and the benchmark prints.
    """

    name: str
    calls: int

    def changes(self, calendar_ref: str, sync_token: str | None) -> ChangeSet:
        """Items changed since ``sync_token``; everything when it is ``None``.

        Raises ``SyncTokenInvalid`` when the server refuses the token.
        """
        ...

    def put(self, calendar_ref: str, item: OutgoingItem, remote_id: str | None) -> RemoteRef:
        """Create (``remote_id`` None) or replace an Escale item; return where it is.

        When ``remote_id`` no longer exists remotely the backend creates the
        item anew and returns the new reference.
        """
        ...

    def delete(self, calendar_ref: str, remote_id: str) -> None:
        """Remove an item; an item already gone is not an error."""
        ...

    def busy(self, calendar_ref: str, start: datetime, end: datetime) -> list[BusyPeriod]:
        """Busy periods overlapping [start, end): times only, never titles.

        Free/transparent and cancelled items are left out.
        """
        ...


# --- configuration and registry --------------------------------------------


@dataclass(frozen=True)
class Credentials:
    """Secrets read from the environment by reference name, never stored in the database."""

    username: str | None = None
    password: str | None = None
    tenant_id: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    token: str | None = None

    def __repr__(self) -> str:  # never print secrets
        present = [k for k, v in self.__dict__.items() if v]
        return f"Credentials(present={present})"


_CREDENTIAL_FIELDS = ("username", "password", "tenant_id", "client_id", "client_secret", "token")


def credentials_from_env(ref: str | None, env: Mapping[str, str] = os.environ) -> Credentials:
    """``ESCALE_CALENDAR_<REF>_USERNAME`` (``_PASSWORD``, ``_TENANT_ID``,
    ``_CLIENT_ID``, ``_CLIENT_SECRET``, ``_TOKEN``); ``REF`` upper-cased, any
    character other than a letter or digit becoming ``_``."""
    if not ref:
        return Credentials()
    prefix = "ESCALE_CALENDAR_" + re.sub(r"[^A-Z0-9]", "_", ref.upper()) + "_"
    return Credentials(**{name: env.get(prefix + name.upper()) or None for name in _CREDENTIAL_FIELDS})


@dataclass(frozen=True)
class BackendConfig:
    """One site's calendar connection as an admin configured it.

    ``options`` holds backend-specific, non-secret settings (an EWS server
    version, a Graph authority URL, a request timeout in seconds under
    ``timeout``...). ``dry_run`` reads but never writes.
    """

    name: str
    url: str | None = None
    credentials: Credentials = field(default_factory=Credentials)
    credentials_ref: str | None = None
    options: Mapping[str, object] = field(default_factory=dict)
    dry_run: bool = False


class UnknownBackend(ValueError):
    pass


class NoneBackend:
    """Sync turned off: no items, no writes, no busy times."""

    name = "none"

    def __init__(self, config: BackendConfig | None = None):
        self.calls = 0

    def changes(self, calendar_ref, sync_token):
        return ChangeSet(items=[], next_token=None, full=sync_token is None)

    def put(self, calendar_ref, item, remote_id):
        return RemoteRef(remote_id=remote_id or item.uid, uid=item.uid)

    def delete(self, calendar_ref, remote_id):
        return None

    def busy(self, calendar_ref, start, end):
        return []


class DryRunBackend:
    """Wraps a backend: reads go through, writes are logged and not sent."""

    def __init__(self, inner: CalendarBackend):
        self.inner = inner
        self.name = inner.name

    @property
    def calls(self) -> int:
        return self.inner.calls

    def changes(self, calendar_ref, sync_token):
        return self.inner.changes(calendar_ref, sync_token)

    def busy(self, calendar_ref, start, end):
        return self.inner.busy(calendar_ref, start, end)

    def put(self, calendar_ref, item, remote_id):
        log.info("calendar dry run: put", extra={"booking_id": item.booking_id, "remote_id": remote_id})
        return RemoteRef(remote_id=remote_id or f"dry-run:{item.uid}", uid=item.uid)

    def delete(self, calendar_ref, remote_id):
        log.info("calendar dry run: delete", extra={"remote_id": remote_id})


Factory = Callable[[BackendConfig], CalendarBackend]

#: Backend name -> "module:function" building it, imported on first use so a
#: site without Exchange never imports exchangelib.
BACKENDS: dict[str, str | Factory] = {
    "none": NoneBackend,
    "caldav": "booking.calendars.caldav:create",
    "ews": "booking.calendars.ews:create",
    "graph": "booking.calendars.graph:create",
}


def register(name: str, factory: str | Factory) -> None:
    """Add or replace a backend (tests register fakes)."""
    BACKENDS[name] = factory


def build_backend(config: BackendConfig, env: Mapping[str, str] = os.environ) -> CalendarBackend:
    """The backend a site's configuration names, with its credentials filled from ``env``."""
    try:
        factory = BACKENDS[config.name]
    except KeyError:
        raise UnknownBackend(
            f"Unknown calendar backend {config.name!r}: use one of {', '.join(sorted(BACKENDS))}."
        ) from None
    if isinstance(factory, str):
        module_name, _, attr = factory.partition(":")
        factory = getattr(importlib.import_module(module_name), attr)
    if config.credentials_ref and config.credentials == Credentials():
        config = replace(config, credentials=credentials_from_env(config.credentials_ref, env))
    backend = factory(config)
    return DryRunBackend(backend) if config.dry_run else backend
