"""The sync engine: one round for one site, both ways.

A round, for each mapped room: ask the backend what changed since the stored
token (a full listing when the server refuses it), read each item into
occurrences (``items``), decide per occurrence (``reconcile``) and apply it to
the bookings, in short transactions of the booking store. Then push what
changed in Escale since the remote side last agreed (the booking's
``version`` against its link's), then read agents' busy times.

Nothing in one room stops the others: a bad item is skipped with a logged
reason, a room whose calendar is unreachable is noted and retried next
round; only refused credentials end the round early (every room would fail
the same way).

Loops are prevented twice: items Escale wrote carry its UID and marker (an
echo is recognised, and ignored when its ETag is the one Escale wrote), and
every change the engine itself makes to a booking moves the link's
``booking_version`` along with it, so it is never pushed back.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time as clock
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import psycopg

from ..adapters.calendar_store import CalendarState, link_from_row
from ..adapters.store import BookingStore, site_from_row
from ..domain import errors, events
from ..domain.model import Interval
from . import events as calendar_events
from .backend import (
    BackendAuthError,
    BackendError,
    CalendarBackend,
    OutgoingItem,
    SyncTokenInvalid,
    booking_uid,
)
from .items import Occurrence, Window, interpret
from .reconcile import (
    ACTIVE,
    ADOPT,
    CANCEL,
    CREATE,
    DELETE,
    IGNORE,
    MOVE,
    PUT,
    TOUCH,
    Link,
    decide_pull,
    decide_push,
    remote_wins,
)

log = logging.getLogger(__name__)

DEFAULT_TITLE = "Escale"
BUSY_DAYS = 2
MAX_CONFLICT_ROUNDS = 5


@dataclass
class Counts:
    rooms: int = 0
    items: int = 0
    created: int = 0
    moved: int = 0
    cancelled: int = 0
    pushed: int = 0
    removed_remote: int = 0
    skipped: int = 0
    conflicts: int = 0
    full_resyncs: int = 0
    room_errors: int = 0
    busy_published: int = 0
    skip_reasons: dict = field(default_factory=dict)

    def skip(self, reason: str) -> None:
        self.skipped += 1
        self.skip_reasons[reason] = self.skip_reasons.get(reason, 0) + 1


class SiteRound:
    """One round for one site. ``now`` is fixed for the round."""

    def __init__(self, store: BookingStore, backend: CalendarBackend, connection: dict, now: datetime):
        self.store, self.backend, self.connection, self.now = store, backend, connection, now
        self.site_id = connection["site_id"]
        self.counts = Counts()
        with store.unit(transaction=False) as unit:
            self.site = site_from_row(unit.site_row(self.site_id))
            horizon = unit.rules(self.site_id, "room").max_days_ahead
        self.window = Window(start=now, end=now + timedelta(days=max(horizon, 1)),
                             site_tz=self.site.timezone, opening=self.site.opening_time,
                             closing=self.site.closing_time)

    # -- the round ------------------------------------------------------------
    def run(self) -> tuple[str, str | None]:
        """Sync every room, push, read busy times. Returns (status, error)."""
        status, error = "ok", None
        with self.store.unit(transaction=False) as unit:
            rooms = CalendarState(unit.conn).rooms(self.site_id)
        try:
            for room in rooms:
                self.counts.rooms += 1
                try:
                    self.pull_room(room)
                except BackendAuthError:
                    raise
                except Exception as exc:  # noqa: BLE001 - one room never stops the others
                    self.counts.room_errors += 1
                    status = "partial"
                    log.warning("calendar room not synced", extra={
                        "site_id": self.site_id, "resource_id": room["resource_id"],
                        "error": _describe(exc)})
                    with self.store.unit(transaction=False) as unit:
                        CalendarState(unit.conn).room_error(room["resource_id"], _describe(exc))
            if self.push() and status == "ok":
                status = "partial"
            if self.busy_times() and status == "ok":
                status = "partial"
        except BackendAuthError as exc:
            log.error("calendar credentials refused", extra={"site_id": self.site_id})
            return "failed", _describe(exc)
        return status, error

    # -- remote -> Escale ---------------------------------------------------------
    def pull_room(self, room: dict) -> None:
        ref, resource_id, token = room["calendar_ref"], room["resource_id"], room["sync_token"]
        try:
            changes = self.backend.changes(ref, token)
        except SyncTokenInvalid:
            log.info("sync token refused: full resync", extra={"resource_id": resource_id})
            self.counts.full_resyncs += 1
            changes = self.backend.changes(ref, None)
            token = None
        full = token is None or changes.full
        for skipped in changes.skipped:
            self._log_skip(resource_id, skipped.remote_id, skipped.reason)
        links: dict = {}
        if full or changes.items or changes.deleted_ids:  # an idle calendar costs no database trip
            with self.store.unit(transaction=False) as unit:
                links = CalendarState(unit.conn).links(
                    resource_id, None if full else [i.remote_id for i in changes.items] + changes.deleted_ids)
        listed = {i.remote_id for i in changes.items} | {s.remote_id for s in changes.skipped}
        for item in changes.items:
            self.counts.items += 1
            reading = interpret(item, self.window)
            for skip in reading.skips:
                self._log_skip(resource_id, skip.remote_id, skip.reason)
            present = set()
            for occ in reading.occurrences:
                present.add(occ.key)
                try:
                    self.apply(room, occ, links.get((occ.remote_id, occ.key)))
                except BackendAuthError:
                    raise
                except Exception as exc:  # noqa: BLE001 - one item never stops the rest
                    self._log_skip(resource_id, occ.remote_id, f"failed:{type(exc).__name__}")
                    log.exception("calendar item not applied", extra={"resource_id": resource_id})
            if any(s.key == "" for s in reading.skips) and not reading.occurrences:
                continue  # unreadable now: keep what it booked before rather than guess
            for (remote_id, key), link in links.items():
                if remote_id == item.remote_id and key not in present:
                    self.gone(room, link)  # removed from the series, or moved out of the horizon
        gone = set(changes.deleted_ids)
        if full:
            gone |= {remote_id for remote_id, _ in links if remote_id not in listed}
        for (remote_id, _), link in links.items():
            if remote_id in gone:
                self.gone(room, link)
        if changes.next_token != room["sync_token"] or full or room["last_error"]:
            with self.store.unit(transaction=False) as unit:
                CalendarState(unit.conn).save_token(resource_id, changes.next_token, full, self.now)

    def apply(self, room: dict, occ: Occurrence, link_row: dict | None) -> None:
        link = link_from_row(link_row) if link_row else None
        decision = decide_pull(occ, link)
        resource_id = room["resource_id"]
        if decision.action == IGNORE:
            return
        if decision.action == TOUCH:
            with self.store.unit(transaction=False) as unit:
                CalendarState(unit.conn).touch_link(resource_id, occ.remote_id, occ.key, occ.etag, self.now)
            return
        if decision.action == ADOPT:
            self.adopt(room, occ)
            return
        if decision.action == CANCEL:
            with self.store.unit() as unit:
                booking = unit.booking(link.booking_id, for_update=True)
                if booking["status"] in ACTIVE:
                    version = self._set_status(unit, booking, "cancelled")
                    self.counts.cancelled += 1
                    CalendarState(unit.conn).touch_link(resource_id, occ.remote_id, occ.key, occ.etag,
                                                        self.now, booking_version=version)
            return
        if decision.action in (CREATE, MOVE):
            self.book(room, occ, link_row if decision.action == MOVE else None)

    def book(self, room: dict, occ: Occurrence, link_row: dict | None) -> None:
        """Create or move the booking of an occurrence; settle conflicts by the
        earlier creation."""
        resource_id = room["resource_id"]
        first_seen = (link_row or {}).get("first_seen_at") or self.now
        for _ in range(MAX_CONFLICT_ROUNDS):
            try:
                with self.store.unit() as unit:
                    cal = CalendarState(unit.conn)
                    if link_row is None:
                        self._create(unit, cal, resource_id, occ)
                        self.counts.created += 1
                    else:
                        self._move(unit, cal, resource_id, occ, link_row)
                        self.counts.moved += 1
                return
            except errors.Conflict as exc:
                clash_id = (exc.details.get("conflict") or {}).get("id")
                if not clash_id:
                    raise
                if not self.settle(room, occ, first_seen, clash_id, link_row):
                    return
            except (psycopg.errors.CheckViolation, psycopg.errors.NotNullViolation):
                self._log_skip(resource_id, occ.remote_id, "no_owner")
                return
        self._log_skip(resource_id, occ.remote_id, "too_many_conflicts")

    def _create(self, unit, cal: CalendarState, resource_id: str, occ: Occurrence) -> None:
        owner = self._owner(unit, occ.organiser_email)
        context = unit.booking_context(resource_id, owner)
        booking = context.new_booking(str(uuid.uuid4()), owner, Interval(occ.start, occ.end), "slot",
                                      occ.title, None, "calendar", self.now)
        event = events.booking_event(events.BOOKING_CREATED, self.now, booking, context.person,
                                     context.resource_event, context.site_event)
        unit.insert_booking(booking, context.resource, Interval(occ.start, occ.end), None, event)
        cal.save_link(resource_id, occ.remote_id, occ.key, origin="remote", booking_id=booking["id"],
                      etag=occ.etag, uid=occ.uid, booking_version=1, now=self.now,
                      organiser_email=occ.organiser_email, remote_created=occ.created)

    def _move(self, unit, cal: CalendarState, resource_id: str, occ: Occurrence, link_row: dict) -> None:
        booking = unit.booking(link_row["booking_id"], for_update=True)
        title = occ.title if link_row["origin"] == "remote" else booking["title"]
        try:
            with unit.conn.transaction():
                cal.move_booking(booking["id"], occ.start, occ.end, title, self.now)
        except psycopg.errors.ExclusionViolation:
            context = unit.booking_context(resource_id, None)
            raise unit._conflict("booking_no_overlap", context.resource, None,
                                 Interval(occ.start, occ.end)) from None
        moved = unit.booking(booking["id"])
        self._publish(unit, events.BOOKING_UPDATED, moved)
        cal.touch_link(resource_id, occ.remote_id, occ.key, occ.etag, self.now,
                       booking_version=cal.booking_version(booking["id"]))

    def settle(self, room: dict, occ: Occurrence, first_seen: datetime, clash_id: str,
               link_row: dict | None) -> bool:
        """Both sides hold the slot: the earlier creation wins, the other is
        cancelled and its organiser told. True when the occurrence won (retry)."""
        resource_id, ref = room["resource_id"], room["calendar_ref"]
        self.counts.conflicts += 1
        with self.store.unit(transaction=False) as unit:
            clash = unit.booking(clash_id)
            clash_link = CalendarState(unit.conn).link_of_booking(clash_id)
        clash_created = datetime.fromisoformat(clash["created_at"])
        if clash_link and clash_link["origin"] == "remote":
            clash_created = clash_link["remote_created"] or clash_link["first_seen_at"]
        occ_side = self._occurrence_side(occ, link_row)
        if remote_wins(occ.created, first_seen, clash_created):
            # Escale's side loses: cancel the booking, and take it out of the calendar if it is there.
            if clash_link and clash_link["state"] == "active" and clash_link["occurrence"] == "":
                self.backend.delete(ref, clash_link["remote_id"])
                self.counts.removed_remote += 1
            with self.store.unit() as unit:
                cal = CalendarState(unit.conn)
                locked = unit.booking(clash_id, for_update=True)
                if locked["status"] in ACTIVE:
                    version = self._set_status(unit, locked, "cancelled")
                    self.counts.cancelled += 1
                    if clash_link:
                        cal.touch_link(resource_id, clash_link["remote_id"], clash_link["occurrence"],
                                       clash_link["etag"], self.now, booking_version=version,
                                       state="rejected")
                self._conflict_event(unit, room, kept=occ_side,
                                     cancelled=self._booking_side(unit, locked, clash_link))
            return True
        # The occurrence loses: a single item is removed from the room's calendar
        # (a series keeps its other occurrences); Escale remembers not to import it.
        if occ.key == "":
            self.backend.delete(ref, occ.remote_id)
            self.counts.removed_remote += 1
        with self.store.unit() as unit:
            cal = CalendarState(unit.conn)
            if link_row is not None and link_row["booking_id"]:
                booking = unit.booking(link_row["booking_id"], for_update=True)
                if booking["status"] in ACTIVE:
                    self._set_status(unit, booking, "cancelled")
                    self.counts.cancelled += 1
            cal.save_link(resource_id, occ.remote_id, occ.key, origin="remote",
                          booking_id=(link_row or {}).get("booking_id"), etag=occ.etag, uid=occ.uid,
                          booking_version=cal.booking_version(link_row["booking_id"])
                          if link_row and link_row["booking_id"] else 0,
                          now=self.now, state="rejected", organiser_email=occ.organiser_email,
                          remote_created=occ.created)
            self._conflict_event(unit, room, kept=self._booking_side(unit, clash, clash_link),
                                 cancelled=occ_side)
        return False

    def adopt(self, room: dict, occ: Occurrence) -> None:
        """Escale's own item with no link (a link lost, a restored database): relink it."""
        with self.store.unit() as unit:
            try:
                booking = unit.booking(occ.escale_booking_id)
            except errors.NotFound:
                self._log_skip(room["resource_id"], occ.remote_id, "unknown_escale_item")
                return
            if booking["resource_id"] != room["resource_id"]:
                self._log_skip(room["resource_id"], occ.remote_id, "escale_item_of_another_room")
                return
            CalendarState(unit.conn).save_link(
                room["resource_id"], occ.remote_id, occ.key, origin="escale", booking_id=booking["id"],
                etag=occ.etag, uid=occ.uid, booking_version=0, now=self.now)
            # version 0: the next push rewrites the item from the booking as it is now.

    def gone(self, room: dict, link_row: dict) -> None:
        """The remote item (or this occurrence) no longer exists: give the room back."""
        if link_row["state"] != "active":
            return
        with self.store.unit() as unit:
            cal = CalendarState(unit.conn)
            version = None
            if link_row["booking_id"]:
                booking = unit.booking(link_row["booking_id"], for_update=True)
                if booking["status"] in ACTIVE and datetime.fromisoformat(booking["end"]) > self.now:
                    version = self._set_status(unit, booking, "cancelled")
                    self.counts.cancelled += 1
                else:
                    version = cal.booking_version(booking["id"])
            cal.touch_link(room["resource_id"], link_row["remote_id"], link_row["occurrence"],
                           link_row["etag"], self.now, booking_version=version, state="gone")

    # -- Escale -> remote ------------------------------------------------------------
    def push(self, booking_id: str | None = None) -> int:
        """Write what changed in Escale to the rooms' calendars (or only this
        booking's change). Returns failures, which the next round retries."""
        failures = 0
        with self.store.unit(transaction=False) as unit:
            rows = CalendarState(unit.conn).bookings_to_push(self.site_id, self.now, booking_id=booking_id)
        for row in rows:
            link = None
            if row["remote_id"] is not None:
                link = Link(remote_id=row["remote_id"], occurrence=row["occurrence"], origin=row["origin"],
                            state=row["state"], etag=row["etag"], booking_id=row["booking_id"],
                            booking_version=row["booking_version"])
            action = decide_push(row["status"], row["version"], link)
            try:
                if action == PUT:
                    ref = self.backend.put(row["calendar_ref"], self._outgoing(row),
                                           link.remote_id if link else None)
                    self.counts.pushed += 1
                    with self.store.unit() as unit:
                        CalendarState(unit.conn).save_link(
                            row["resource_id"], ref.remote_id, "", origin="escale",
                            booking_id=row["booking_id"], etag=ref.etag, uid=ref.uid or booking_uid(row["booking_id"]),
                            booking_version=row["version"], now=self.now)
                    continue
                if action == DELETE:
                    self.backend.delete(row["calendar_ref"], link.remote_id)
                    self.counts.removed_remote += 1
                if link is not None:
                    with self.store.unit(transaction=False) as unit:
                        CalendarState(unit.conn).touch_link(
                            row["resource_id"], link.remote_id, link.occurrence, link.etag, self.now,
                            booking_version=row["version"], state="gone" if action == DELETE else None)
            except BackendAuthError:
                raise
            except BackendError as exc:
                failures += 1
                log.warning("booking not written to the calendar", extra={
                    "booking_id": row["booking_id"], "error": _describe(exc)})
        return failures

    def _outgoing(self, row: dict) -> OutgoingItem:
        end = row["end"]
        if row["status"] == "ended" and row["ended_at"] is not None:
            end = max(row["start"] + timedelta(minutes=1), min(end, row["ended_at"]))
        return OutgoingItem(
            booking_id=row["booking_id"], uid=booking_uid(row["booking_id"]), start=row["start"], end=end,
            # A room marked private shows no titles at its door; nor in its calendar.
            title=(None if row["private_room"] else row["title"]) or DEFAULT_TITLE, time_zone=row["timezone"],
            organiser_email=row["person_email"], sequence=row["version"],
        )

    # -- busy times --------------------------------------------------------------------
    def busy_times(self) -> int:
        """Publish each mapped agent's busy times when they changed. Returns failures."""
        failures = 0
        with self.store.unit(transaction=False) as unit:
            people = CalendarState(unit.conn).people(self.site_id)
        day = self.site.local_date(self.now)
        start = datetime.combine(day, datetime.min.time(), tzinfo=self.site.tz)
        end = start + timedelta(days=BUSY_DAYS)
        for person in people:
            try:
                periods = self.backend.busy(person["calendar_ref"], start, end)
            except BackendAuthError:
                raise
            except BackendError as exc:
                failures += 1
                log.warning("busy times not read", extra={"person_id": person["person_id"],
                                                           "error": _describe(exc)})
                continue
            spans = [(p.start, p.end) for p in periods]
            digest = hashlib.sha256(json.dumps(
                [start.isoformat()] + [[s.isoformat(), e.isoformat()] for s, e in spans]).encode()).hexdigest()
            if digest == person["busy_digest"]:
                continue
            with self.store.unit() as unit:
                unit.enqueue(calendar_events.busy(self.now, person["person_id"], start, end, spans))
                CalendarState(unit.conn).set_busy_digest(person["person_id"], digest, self.now)
            self.counts.busy_published += 1
        return failures

    # -- helpers -----------------------------------------------------------------------------
    def _owner(self, unit, email: str | None) -> str | None:
        if email:
            try:
                return unit.person_by_email(email)["id"]
            except errors.NotFound:
                pass
        return self.connection.get("fallback_person_id")

    def _set_status(self, unit, booking: dict, status: str) -> int:
        updated = unit.set_status(booking["id"], status, self.now)
        self._publish(unit, {"cancelled": events.BOOKING_CANCELLED}[status], updated)
        return CalendarState(unit.conn).booking_version(booking["id"])

    def _publish(self, unit, event_type: str, booking: dict) -> None:
        resource_row = unit.resource_row(booking["resource_id"], active_only=False)
        site_row = unit.site_row(resource_row["site_id"])
        person = unit.person(booking["person_id"]) if booking.get("person_id") else None
        unit.enqueue(events.booking_event(
            event_type, self.now, booking, person,
            {k: str(v) if k.endswith("id") else v for k, v in resource_row.items()},
            {"id": str(site_row["id"]), "name": site_row["name"], "timezone": site_row["timezone"]},
        ))

    def _occurrence_side(self, occ: Occurrence, link_row: dict | None) -> dict:
        return {"side": "calendar", "booking_id": (link_row or {}).get("booking_id"),
                "remote_id": occ.remote_id, "start": occ.start.isoformat(), "end": occ.end.isoformat(),
                "title": occ.title, "organiser_email": occ.organiser_email,
                "person": self._person_by_email(occ.organiser_email)}

    def _booking_side(self, unit, booking: dict, link: dict | None) -> dict:
        person = None
        if booking.get("person_id"):
            p = unit.person(booking["person_id"])
            person = {k: p.get(k) for k in ("id", "email", "display_name", "language")}
        remote = link is not None and link["origin"] == "remote"
        return {"side": "calendar" if remote else "escale", "booking_id": booking["id"],
                "remote_id": link["remote_id"] if link else None, "start": booking["start"],
                "end": booking["end"], "title": booking["title"],
                "organiser_email": (link or {}).get("organiser_email") if remote else (person or {}).get("email"),
                "person": person}

    def _person_by_email(self, email: str | None) -> dict | None:
        if not email:
            return None
        with self.store.unit(transaction=False) as unit:
            try:
                p = unit.person_by_email(email)
            except errors.NotFound:
                return None
        return {k: p.get(k) for k in ("id", "email", "display_name", "language")}

    def _conflict_event(self, unit, room: dict, kept: dict, cancelled: dict) -> None:
        unit.enqueue(calendar_events.conflict(
            self.now, self.site_id, {"id": room["resource_id"], "name": room.get("resource_name")},
            kept, cancelled, site={"name": self.site.name, "timezone": self.site.timezone}))
        log.info("calendar conflict settled", extra={
            "resource_id": room["resource_id"], "kept": kept["side"], "cancelled": cancelled["side"],
            "cancelled_booking_id": cancelled.get("booking_id")})

    def _log_skip(self, resource_id: str, remote_id: str, reason: str) -> None:
        self.counts.skip(reason)
        log.info("calendar item skipped", extra={"resource_id": resource_id, "remote_id": remote_id,
                                                 "reason": reason})


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def run_site(store: BookingStore, backend: CalendarBackend, connection: dict, now: datetime,
             trigger: str) -> dict:
    """Run one round for a site whose lease the caller holds; record it; release the lease."""
    site_id = connection["site_id"]
    with store.unit(transaction=False) as unit:
        run_id = CalendarState(unit.conn).start_run(site_id, trigger, now)
    started = clock.monotonic()
    calls_before = getattr(backend, "calls", 0)
    counts, status, error = Counts(), "failed", None
    try:
        round_ = SiteRound(store, backend, connection, now)
        status, error = round_.run()
        counts = round_.counts
    except Exception as exc:  # noqa: BLE001 - recorded on the run, the timer carries on
        error = _describe(exc)
        log.exception("calendar round failed", extra={"site_id": site_id})
    finally:
        with store.unit(transaction=False) as unit:
            cal = CalendarState(unit.conn)
            summary = counts.__dict__ | {"seconds": round(clock.monotonic() - started, 3)}
            run = cal.finish_run(run_id, status, getattr(backend, "calls", 0) - calls_before, summary,
                                 error, datetime.now(now.tzinfo))
            cal.release(site_id)
    log.info("calendar round", extra={"site_id": site_id, "status": status, **{
        k: v for k, v in summary.items() if k != "skip_reasons"}})
    return run
