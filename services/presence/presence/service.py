"""The presence service's nameko entrypoints.

Each entrypoint turns a message into a use-case call and back; the logic is
in ``usecases`` and the domain. RPC methods are the contract in
docs/architecture.md ("Presence service RPC"). Booking events are applied
idempotently and in any order; a failure of a store (PostgreSQL, Redis,
booking) requeues the event, a malformed event is logged and dropped (the
next reconciliation with ``booking.active_bookings`` heals what it missed).
"""

import os

# psycopg 3 must wait with select() under eventlet, or one query blocks the
# whole process (STACK-NOTES). Set before anything imports psycopg.
os.environ.setdefault("PSYCOPG_WAIT_FUNC", "wait_select")

import json  # noqa: E402
import logging  # noqa: E402

import eventlet  # noqa: E402
import psycopg  # noqa: E402
import redis  # noqa: E402
# Quorum queues, dead-letter queue, bounded prefetch (docs/architecture.md "Messaging guarantees").
from escale_common.messaging import DeadLetter, event_handler, rpc  # noqa: E402
from nameko.exceptions import RemoteError  # noqa: E402
from escale_common.nameko_metrics import EntrypointMetrics  # noqa: E402
from nameko.timer import timer  # noqa: E402
from nameko.web.handlers import http  # noqa: E402
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest  # noqa: E402
from werkzeug.wrappers import Response  # noqa: E402

from . import personal_data, usecases  # noqa: E402
from .dependencies import (  # noqa: E402
    EVENTS, OUTBOX_PENDING, OUTBOX_PUBLISHED, Booking, Clock, Localized, Relay,
    SearchIndex, Stores,
)
from .domain.access import Actor  # noqa: E402
from .domain.errors import EXPECTED, DomainError  # noqa: E402

log = logging.getLogger(__name__)

command = rpc(expected_exceptions=EXPECTED)
TRANSIENT = (psycopg.OperationalError, redis.RedisError, RemoteError, eventlet.Timeout, OSError)


def booking_event(event_type):
    return event_handler("booking", event_type, requeue_on_error=True)


class PresenceService:
    name = "presence"

    stores = Stores()
    booking = Booking()
    relay = Relay()
    search = SearchIndex()
    clock = Clock()
    localized = Localized()
    metrics = EntrypointMetrics("presence")

    def _ports(self) -> usecases.Ports:
        return usecases.Ports(self.stores.store, self.stores.model, self.booking, self.stores.config)

    # -- where is X, who is on site ---------------------------------------------------
    @command
    def where_is(self, actor, person_id, at=None):
        with self.localized():
            return usecases.where_is(self._ports(), Actor.from_wire(actor), person_id, at, self.clock())

    @rpc(expected_exceptions=EXPECTED, sensitive_arguments=("q",))
    def find_people(self, actor, q, limit=10, at=None):
        with self.localized():
            return usecases.find_people(self._ports(), self.search(), Actor.from_wire(actor), q, limit,
                                        at, self.clock())

    @command
    def on_site(self, actor, date=None, site_id=None, team_id=None):
        with self.localized():
            return usecases.on_site(self._ports(), Actor.from_wire(actor), date, site_id, team_id,
                                    self.clock())

    # -- my plan ------------------------------------------------------------------------
    @command
    def get_plan(self, actor, start, end, person_id=None):
        with self.localized():
            return usecases.get_plan(self._ports(), Actor.from_wire(actor), start, end, person_id,
                                     self.clock())

    @command
    def set_plan(self, actor, days, person_id=None):
        with self.localized():
            return usecases.set_plan(self._ports(), Actor.from_wire(actor), days, person_id, self.clock())

    @command
    def get_pattern(self, actor, person_id=None):
        with self.localized():
            return usecases.get_pattern(self._ports(), Actor.from_wire(actor), person_id)

    @command
    def set_pattern(self, actor, pattern, person_id=None):
        with self.localized():
            return usecases.set_pattern(self._ports(), Actor.from_wire(actor), pattern, person_id,
                                        self.clock())

    # -- my temporary status and privacy ------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED, sensitive_arguments=("label",))
    def set_status(self, actor, kind, until, label=None):
        with self.localized():
            return usecases.set_status(self._ports(), Actor.from_wire(actor), kind, until, label,
                                       self.clock())

    @command
    def clear_status(self, actor):
        with self.localized():
            return usecases.clear_status(self._ports(), Actor.from_wire(actor), self.clock())

    @command
    def get_privacy(self, actor):
        with self.localized():
            return usecases.get_privacy(self._ports(), Actor.from_wire(actor))

    @command
    def set_privacy(self, actor, visibility):
        with self.localized():
            return usecases.set_privacy(self._ports(), Actor.from_wire(actor), visibility, self.clock())

    @command
    def refresh_person(self, person_id):
        """Internal: re-read a person from booking's directory (contacts changed)."""
        with self.localized():
            return usecases.refresh_person(self._ports(), person_id, self.clock())

    # -- personal data (GDPR) ---------------------------------------------------------------
    @command
    def export_person(self, actor, person_id):
        with self.localized():
            pid = personal_data.check_access(Actor.from_wire(actor), person_id)
            return personal_data.export_person(self._ports(), pid)

    @command
    def erase_person(self, actor, person_id):
        with self.localized():
            pid = personal_data.check_access(Actor.from_wire(actor), person_id)
            return personal_data.erase_person(self._ports(), self.clock(), pid)

    @booking_event("person.erased")
    def on_person_erased(self, payload):
        """Booking erased a person: erase here too (again, harmlessly, after the RPC)."""
        try:
            personal_data.erase_person(self._ports(), self.clock(), (payload or {}).get("person_id"))
        except DomainError:
            log.warning("person.erased ignored: no person id",
                        extra={"event_id": (payload or {}).get("event_id")})
        except TRANSIENT:
            eventlet.sleep(1)
            raise

    # -- booking events ------------------------------------------------------------------
    @booking_event("booking.created")
    def on_booking_created(self, payload):
        self._apply("booking.created", payload)

    @booking_event("booking.updated")
    def on_booking_updated(self, payload):
        self._apply("booking.updated", payload)

    @booking_event("booking.checked_in")
    def on_booking_checked_in(self, payload):
        self._apply("booking.checked_in", payload)

    @booking_event("booking.cancelled")
    def on_booking_cancelled(self, payload):
        self._apply("booking.cancelled", payload)

    @booking_event("booking.released")
    def on_booking_released(self, payload):
        self._apply("booking.released", payload)

    @booking_event("booking.ended")
    def on_booking_ended(self, payload):
        self._apply("booking.ended", payload)

    @booking_event("calendar.busy")
    def on_calendar_busy(self, payload):
        """An agent's busy times from their own calendar (booking's calendar sync)."""
        event_id = payload.get("event_id") if isinstance(payload, dict) else None
        try:
            usecases.on_calendar_busy(self._ports(), payload, self.clock())
        except DomainError as exc:
            log.warning("calendar.busy rejected", extra={"event_id": event_id, "error": exc.code})
            raise DeadLetter(exc.code) from exc
        except TRANSIENT:
            eventlet.sleep(1)
            raise

    def _apply(self, event_type, payload):
        event_id = payload.get("event_id") if isinstance(payload, dict) else None
        try:
            outcome = usecases.on_booking_event(self._ports(), event_type, payload, self.clock())
        except DomainError as exc:
            EVENTS.labels("rejected").inc()
            log.warning("booking event rejected", extra={"event_id": event_id, "type": event_type,
                                                         "error": exc.code, "field": exc.details.get("field")})
            raise DeadLetter(exc.code) from exc  # kept in dlq-presence, never retried
        except TRANSIENT as exc:
            EVENTS.labels("retried").inc()
            log.warning("booking event will be retried", extra={"event_id": event_id, "type": event_type,
                                                                "error": type(exc).__name__})
            eventlet.sleep(1)  # no hot loop while a store is away
            raise
        except Exception:
            EVENTS.labels("failed").inc()
            log.exception("booking event failed; dead-lettered", extra={"event_id": event_id, "type": event_type})
            raise DeadLetter(event_type) from None
        EVENTS.labels(outcome).inc()

    # -- background work -------------------------------------------------------------------
    @timer(interval=0.2)
    def relay_outbox(self):
        published = self.relay.publish_pending()
        if published:
            OUTBOX_PUBLISHED.inc(published)

    @timer(interval=1)
    def maintain(self):
        try:
            done = usecases.maintain(self._ports(), self.clock(), self.stores.upkeep,
                                     self.stores.settings.directory_sync_seconds)
        except TRANSIENT as exc:
            log.warning("maintenance postponed", extra={"error": type(exc).__name__})
            return
        if {k: v for k, v in done.items() if v and k != "status_changes"}:
            log.info("read model maintained", extra={k: v for k, v in done.items() if v})

    # -- operations ---------------------------------------------------------------------------
    @http("GET", "/healthz")
    def healthz(self, request):
        return _json(200, {"status": "ok"})

    @http("GET", "/readyz")
    def readyz(self, request):
        checks = {}
        try:
            self.stores.store.ping()
            checks["database"] = True
        except Exception:  # noqa: BLE001 - any failure means not ready
            checks["database"] = False
        try:
            checks["redis"] = self.stores.model.ping()
        except Exception:  # noqa: BLE001
            checks["redis"] = False
        ready = all(checks.values())
        return _json(200 if ready else 503, {"status": "ready" if ready else "unavailable", "checks": checks})

    @http("GET", "/metrics")
    def metrics_endpoint(self, request):
        OUTBOX_PENDING.set(self.relay.pending())
        return Response(generate_latest(), status=200, content_type=CONTENT_TYPE_LATEST)


def _json(status, body):
    return Response(json.dumps(body), status=status, content_type="application/json")
