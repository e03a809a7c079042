"""The booking service's nameko entrypoints.

Each entrypoint turns a message into a use-case call and back; the logic is
in ``usecases``/``catalogue`` and the domain. Domain errors are expected
exceptions: nameko returns them to the caller (code, message, details)
without logging them as failures.
"""

import os

# psycopg 3 must wait with select() under eventlet, or one query blocks the
# whole process (STACK-NOTES). Set before anything imports psycopg.
os.environ.setdefault("PSYCOPG_WAIT_FUNC", "wait_select")

import json  # noqa: E402
import logging  # noqa: E402

from escale_common.nameko_metrics import EntrypointMetrics  # noqa: E402
# Quorum queues, bounded prefetch (docs/architecture.md "Messaging guarantees").
from escale_common.messaging import event_handler, rpc  # noqa: E402
from nameko.timer import timer  # noqa: E402
from nameko.web.handlers import http  # noqa: E402
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest  # noqa: E402
from werkzeug.wrappers import Response  # noqa: E402

from . import catalogue, directory, personal_data, usecases  # noqa: E402
from .calendars import usecases as calendar_sync  # noqa: E402
from .dependencies import OUTBOX_PENDING, OUTBOX_PUBLISHED, CalendarBackends, Clock, Relay, Store  # noqa: E402
from .dependencies import CallerLanguage  # noqa: E402
from .domain.access import Actor  # noqa: E402
from .domain.errors import EXPECTED, Forbidden  # noqa: E402

log = logging.getLogger(__name__)

command = rpc(expected_exceptions=EXPECTED)
# The hour (UTC) after which the nightly retention job runs, once a day.
RETENTION_HOUR = int(os.environ.get("ESCALE_RETENTION_HOUR", "3"))
# How often the outbox is swept for events no worker's end published (a
# worker that writes events wakes the relay itself: dependencies.Relay).
RELAY_INTERVAL = float(os.environ.get("ESCALE_BOOKING_RELAY_INTERVAL", "0.05"))


class BookingService:
    name = "booking"

    store = Store()
    relay = Relay()
    clock = Clock()
    metrics = EntrypointMetrics("booking")
    calendars = CalendarBackends()
    language = CallerLanguage()

    # -- bookings -----------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED, sensitive_arguments=("request.title",))
    def create_booking(self, actor, request, idempotency_key=None):
        return usecases.create_booking(
            self.store, self.clock(), Actor.from_wire(actor), request, idempotency_key
        )

    @command
    def get_booking(self, actor, booking_id):
        return usecases.get_booking(self.store, Actor.from_wire(actor), booking_id)

    @command
    def list_bookings(self, actor, person_id=None, start=None, end=None, resource_id=None, status=None):
        return usecases.list_bookings(
            self.store, self.clock(), Actor.from_wire(actor), person_id, start, end, resource_id, status
        )

    @command
    def cancel_booking(self, actor, booking_id, scope="this"):
        return usecases.cancel_booking(self.store, self.clock(), Actor.from_wire(actor), booking_id, scope)

    @command
    def check_in(self, actor, booking_id):
        return usecases.check_in(self.store, self.clock(), Actor.from_wire(actor), booking_id)

    @command
    def end_booking(self, actor, booking_id):
        return usecases.end_booking(self.store, self.clock(), Actor.from_wire(actor), booking_id)

    @command
    def extend_booking(self, actor, booking_id, minutes):
        return usecases.extend_booking(self.store, self.clock(), Actor.from_wire(actor), booking_id, minutes)

    @command
    def book_now(self, actor, minutes):
        """A door tablet books its own room from now (a walk-in, no owner)."""
        return usecases.book_now(self.store, self.clock(), Actor.from_wire(actor), minutes)

    @command
    def active_bookings(self, start, end, after=None, limit=2000):
        """For other services rebuilding their state; the gateway does not expose it."""
        return usecases.active_bookings(self.store, start, end, after, limit)

    @command
    def feed_bookings(self, start, end, person_id=None, resource_id=None, cancelled_since=None,
                      limit=2000):
        """For the gateway's iCalendar feeds (it decides what a feed shows)."""
        return usecases.feed_bookings(self.store, start, end, person_id, resource_id,
                                      cancelled_since, limit)

    @rpc(expected_exceptions=EXPECTED)
    def occupancy_report(self, actor, site_id, start, end, kind="desk"):
        return usecases.occupancy_report(self.store, self.clock(), Actor.from_wire(actor), site_id,
                                         start, end, kind)

    @command
    def availability(self, actor, **query):
        return usecases.availability(self.store, self.clock(), Actor.from_wire(actor), **query)

    # -- catalogue ----------------------------------------------------------
    @command
    def list_sites(self):
        return catalogue.list_sites(self.store)

    @command
    def site_tree(self, site_id):
        return catalogue.site_tree(self.store, site_id)

    @command
    def list_resources(self, site_id=None, floor_id=None, zone_id=None, kind=None):
        return catalogue.list_resources(self.store, site_id, floor_id, zone_id, kind)

    @command
    def get_resource(self, resource_id):
        return catalogue.get_resource(self.store, resource_id)

    @command
    def create_entity(self, actor, entity, data):
        return catalogue.create_entity(self.store, self.clock(), Actor.from_wire(actor), entity, data)

    @command
    def update_entity(self, actor, entity, entity_id, data):
        return catalogue.update_entity(
            self.store, self.clock(), Actor.from_wire(actor), entity, entity_id, data
        )

    @command
    def delete_entity(self, actor, entity, entity_id):
        return catalogue.delete_entity(self.store, self.clock(), Actor.from_wire(actor), entity, entity_id)

    @command
    def get_rules(self, site_id):
        return catalogue.get_rules(self.store, site_id)

    @command
    def set_rules(self, actor, site_id, resource_kind, rules):
        return catalogue.set_rules(self.store, Actor.from_wire(actor), site_id, resource_kind, rules)

    @rpc(expected_exceptions=EXPECTED, sensitive_arguments=("csv_text",))
    def import_resources(self, actor, csv_text):
        return catalogue.import_csv(self.store, Actor.from_wire(actor), "resources", csv_text)

    @rpc(expected_exceptions=EXPECTED, sensitive_arguments=("csv_text",))
    def import_people(self, actor, csv_text):
        return catalogue.import_csv(self.store, Actor.from_wire(actor), "people", csv_text)

    # -- people -------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED, sensitive_arguments=("q",))
    def search_people(self, q, limit=20):
        return catalogue.search_people(self.store, q, limit)

    @command
    def get_person(self, person_id):
        return catalogue.get_person(self.store, person_id)

    @rpc(expected_exceptions=EXPECTED, sensitive_arguments=("email",))
    def get_person_by_email(self, email):
        return catalogue.get_person_by_email(self.store, email)

    @command
    def export_people(self, after=None, limit=1000, updated_since=None, person_ids=None):
        """The directory with contacts, for services keeping a copy (presence)."""
        return directory.export_people(self.store, after, limit, updated_since, person_ids)

    @command
    def update_contact(self, actor, contact, person_id=None):
        return directory.update_contact(self.store, Actor.from_wire(actor), contact, person_id)

    # -- personal data (GDPR) -------------------------------------------------
    @command
    def export_person(self, actor, person_id):
        pid = personal_data.check_access(Actor.from_wire(actor), person_id)
        return personal_data.export_person(self.store, pid)

    @command
    def erase_person(self, actor, person_id):
        pid = personal_data.check_access(Actor.from_wire(actor), person_id)
        return personal_data.erase_person(self.store, self.clock(), pid)

    @command
    def get_retention(self):
        return personal_data.get_retention(self.store)

    @command
    def set_retention(self, actor, organisation_id, retention):
        return personal_data.set_retention(self.store, Actor.from_wire(actor), organisation_id, retention)

    @command
    def retention_cutoffs(self):
        return personal_data.retention_cutoffs(self.store, self.clock())

    @command
    def run_retention(self, actor):
        """Run the retention job now (an administrator, or the operator's command)."""
        if Actor.from_wire(actor).role != "admin":
            raise Forbidden("only_an_administrator_may_run_the")
        return personal_data.run_retention(self.store, self.clock(), force=True)

    @timer(interval=600)
    def nightly_retention(self):
        personal_data.run_retention(self.store, self.clock(), hour=RETENTION_HOUR)

    # -- calendar sync (admins; see calendars/usecases.py) -------------------------
    @command
    def calendar_settings(self, actor, site_id):
        return calendar_sync.get_settings(self.store, Actor.from_wire(actor), site_id)

    @command
    def set_calendar_connection(self, actor, site_id, connection):
        return calendar_sync.set_connection(self.store, Actor.from_wire(actor), site_id, connection)

    @command
    def delete_calendar_connection(self, actor, site_id):
        return calendar_sync.delete_connection(self.store, Actor.from_wire(actor), site_id)

    @command
    def map_room_calendar(self, actor, resource_id, calendar_ref=None):
        return calendar_sync.map_room(self.store, Actor.from_wire(actor), resource_id, calendar_ref)

    @command
    def map_person_calendar(self, actor, person_id, site_id=None, calendar_ref=None):
        return calendar_sync.map_person(self.store, Actor.from_wire(actor), person_id, site_id, calendar_ref)

    @command
    def calendar_runs(self, actor, site_id, limit=20):
        return calendar_sync.list_runs(self.store, Actor.from_wire(actor), site_id, limit)

    @command
    def sync_now(self, actor, site_id):
        return calendar_sync.sync_now(self.store, self.calendars, self.clock(), Actor.from_wire(actor), site_id)

    # Each site's round runs when due (its interval), on one replica at a time
    # (a lease claimed with SKIP LOCKED); a tick with nothing due is one query.
    @timer(interval=5)
    def sync_calendars(self):
        calendar_sync.sync_due(self.store, self.calendars, self.clock())

    # A room booking made, moved or given back in Escale reaches the room's
    # calendar within a second rather than at the next round (which retries
    # whatever fails here). Best effort: never requeued.
    @event_handler("booking", "booking.created")
    def calendar_on_created(self, payload):
        self._calendar_push(payload)

    @event_handler("booking", "booking.updated")
    def calendar_on_updated(self, payload):
        self._calendar_push(payload)

    @event_handler("booking", "booking.cancelled")
    def calendar_on_cancelled(self, payload):
        self._calendar_push(payload)

    @event_handler("booking", "booking.released")
    def calendar_on_released(self, payload):
        self._calendar_push(payload)

    @event_handler("booking", "booking.ended")
    def calendar_on_ended(self, payload):
        self._calendar_push(payload)

    def _calendar_push(self, payload):
        booking = (payload or {}).get("booking") if isinstance(payload, dict) else None
        if not isinstance(booking, dict) or booking.get("resource_kind") != "room":
            return
        try:
            calendar_sync.push_booking(self.store, self.calendars, self.clock(), booking.get("id"))
        except Exception as exc:  # noqa: BLE001 - the site's next round writes it
            log.warning("calendar push deferred to the next round",
                        extra={"booking_id": booking.get("id"), "error": type(exc).__name__})

    # -- background work ------------------------------------------------------
    # The sweep behind the writers' own wake-ups (rows of a worker that died
    # before waking it, a broker that was away); a round with nothing to do is
    # one indexed query.
    @timer(interval=RELAY_INTERVAL)
    def relay_outbox(self):
        published = self.relay.publish_pending()
        if published:
            OUTBOX_PUBLISHED.inc(published)

    @timer(interval=15)
    def release_no_shows(self):
        usecases.release_no_shows(self.store, self.clock())

    @timer(interval=30)
    def end_finished_bookings(self):
        usecases.end_finished(self.store, self.clock())

    # -- operations -----------------------------------------------------------
    @http("GET", "/healthz")
    def healthz(self, request):
        return _json(200, {"status": "ok"})

    @http("GET", "/readyz")
    def readyz(self, request):
        try:
            self.store.ping()
        except Exception as exc:  # noqa: BLE001 - any failure means not ready
            log.warning("not ready: database unreachable", extra={"error": repr(exc)})
            return _json(503, {"status": "unavailable", "database": "unreachable"})
        return _json(200, {"status": "ready"})

    @http("GET", "/metrics")
    def metrics_endpoint(self, request):
        OUTBOX_PENDING.set(self.relay.pending())
        return Response(generate_latest(), status=200, content_type=CONTENT_TYPE_LATEST)


def _json(status, body):
    return Response(json.dumps(body), status=status, content_type="application/json")
