"""The notify service's nameko entrypoints.

Each entrypoint turns a message into a use-case call and back; the logic is
in ``usecases``, ``domain`` and ``domain.bot``.

* booking events -> messages recorded in the ledger (once per event and
  channel), reminders and warnings scheduled or cancelled;
* ``calendar.conflict`` -> the cancelled side's organiser is told (once);
* timers (in every process; rows are claimed so each message goes once):
  send what is due, fire due reminders, purge old messages;
* RPC for the gateway and the Matrix bot: preferences, dead letters,
  chat identities, and ``bot_answer``;
* ``/healthz``, ``/readyz``, ``/metrics`` over HTTP.
"""

import os

# psycopg 3 must wait with select() under eventlet, or one query blocks the
# whole process (STACK-NOTES). Set before anything imports psycopg.
os.environ.setdefault("PSYCOPG_WAIT_FUNC", "wait_select")

import json  # noqa: E402
import logging  # noqa: E402
from datetime import datetime, timedelta, timezone  # noqa: E402

import eventlet  # noqa: E402
import psycopg  # noqa: E402
# Quorum queues, dead-letter queue, bounded prefetch (docs/architecture.md "Messaging guarantees").
from escale_common.messaging import DeadLetter, event_handler, rpc  # noqa: E402
from escale_common.nameko_metrics import EntrypointMetrics  # noqa: E402
from nameko.rpc import RpcProxy  # noqa: E402
from nameko.timer import timer  # noqa: E402
from nameko.web.handlers import http  # noqa: E402
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest  # noqa: E402
from werkzeug.wrappers import Response  # noqa: E402

from . import personal_data, usecases  # noqa: E402
from .adapters.directory import Directory, resolve_asker  # noqa: E402
from .dependencies import LEDGER, MESSAGES, CallerLanguage, Clock, Outside, Store  # noqa: E402
from .domain.bot import conversation  # noqa: E402
from .domain.errors import EXPECTED, Forbidden  # noqa: E402
from .settings import Settings  # noqa: E402

log = logging.getLogger(__name__)

# Read once at import: timers' intervals are fixed when the class is made.
SETTINGS = Settings.from_env()
RETENTION = timedelta(days=30)
# The hour (UTC) after which the nightly retention job runs, once a day.
RETENTION_HOUR = int(os.environ.get("ESCALE_RETENTION_HOUR", "3"))

command = rpc(expected_exceptions=EXPECTED)


def _booking_handler(event_type: str):
    # requeue_on_error: a database outage must not drop the event; the
    # handler waits a moment first so a requeued message does not spin.
    return event_handler("booking", event_type, requeue_on_error=True)


class NotifyService:
    name = "notify"

    store = Store()
    outside = Outside()
    clock = Clock()
    language = CallerLanguage()
    metrics = EntrypointMetrics("notify")
    booking = RpcProxy("booking")
    presence = RpcProxy("presence")

    # -- booking events ------------------------------------------------------------
    def _on_booking(self, event):
        directory = Directory(self.booking, self.presence)
        try:
            usecases.handle_booking_event(
                self.store, self.clock(), event, self.outside.sender, self.outside.chat_enabled,
                self.outside.policy, directory.release_after_minutes)
        except psycopg.OperationalError:
            log.warning("database unavailable; the event goes back to the queue",
                        extra={"event_id": _event_id(event)})
            eventlet.sleep(1.0)
            raise
        except Exception:  # noqa: BLE001 - a payload we cannot use: log it, never loop on it
            log.exception("event not handled; dead-lettered", extra={"event_id": _event_id(event)})
            raise DeadLetter("event not handled") from None  # kept in dlq-notify

    @_booking_handler("booking.created")
    def on_booking_created(self, event):
        self._on_booking(event)

    @_booking_handler("booking.updated")
    def on_booking_updated(self, event):
        self._on_booking(event)

    @_booking_handler("booking.cancelled")
    def on_booking_cancelled(self, event):
        self._on_booking(event)

    @_booking_handler("booking.checked_in")
    def on_booking_checked_in(self, event):
        self._on_booking(event)

    @_booking_handler("booking.released")
    def on_booking_released(self, event):
        self._on_booking(event)

    @_booking_handler("booking.ended")
    def on_booking_ended(self, event):
        self._on_booking(event)

    @_booking_handler("calendar.conflict")
    def on_calendar_conflict(self, event):
        try:
            usecases.handle_calendar_conflict(self.store, self.clock(), event,
                                              self.outside.chat_enabled, self.outside.public_url)
        except psycopg.OperationalError:
            log.warning("database unavailable; the event goes back to the queue",
                        extra={"event_id": _event_id(event)})
            eventlet.sleep(1.0)
            raise
        except Exception:  # noqa: BLE001 - a payload we cannot use: log it, never loop on it
            log.exception("event not handled; dead-lettered", extra={"event_id": _event_id(event)})
            raise DeadLetter("event not handled") from None

    # -- background work -------------------------------------------------------------
    @timer(interval=SETTINGS.tick)
    def deliver(self):
        outcome = usecases.deliver_due(self.store, self.clock(), self.outside.mailer,
                                       self.outside.chat, self.outside.policy)
        for name, count in outcome.items():
            if count:
                MESSAGES.labels(name).inc(count)

    @timer(interval=SETTINGS.tick)
    def fire_scheduled(self):
        usecases.run_scheduled(self.store, self.clock(), self.outside.sender,
                               self.outside.chat_enabled)

    @timer(interval=3600)
    def purge(self):
        self.store.purge(self.clock() - RETENTION)

    # -- personal data (GDPR) -----------------------------------------------------------
    @command
    def export_person(self, actor, person_id):
        return personal_data.export_person(self.store, personal_data.check_access(actor, person_id))

    @command
    def erase_person(self, actor, person_id):
        return personal_data.erase_person(self.store, personal_data.check_access(actor, person_id))

    @_booking_handler("person.erased")
    def on_person_erased(self, event):
        try:
            personal_data.erase_person(self.store, (event or {}).get("person_id"))
        except psycopg.OperationalError:
            eventlet.sleep(1.0)
            raise
        except Exception:  # noqa: BLE001 - a payload we cannot use
            log.exception("person.erased not handled", extra={"event_id": _event_id(event)})

    @command
    def run_retention(self, actor):
        """Run the retention job now (an administrator)."""
        if not isinstance(actor, dict) or actor.get("role") != "admin":
            raise Forbidden("only_an_administrator_may_run_the")
        cutoff = datetime.fromisoformat(self.booking.retention_cutoffs()["notification_log"])
        return personal_data.run_retention(self.store, self.clock(), cutoff, force=True)

    @timer(interval=600)
    def nightly_retention(self):
        if self.clock().astimezone(timezone.utc).hour < RETENTION_HOUR:
            return
        cutoff = datetime.fromisoformat(self.booking.retention_cutoffs()["notification_log"])
        personal_data.run_retention(self.store, self.clock(), cutoff, hour=RETENTION_HOUR)

    # -- preferences -----------------------------------------------------------------
    @command
    def get_preferences(self, actor, person_id=None):
        return usecases.get_preferences(self.store, actor, person_id)

    @command
    def set_preferences(self, actor, preferences, person_id=None):
        return usecases.set_preferences(self.store, actor, preferences, person_id)

    # -- dead letters ----------------------------------------------------------------
    @command
    def list_dead_letters(self, actor, limit=100, after=None):
        return usecases.list_dead_letters(self.store, actor, limit, after)

    @command
    def replay_dead_letters(self, actor, ids=None):
        return usecases.replay_dead_letters(self.store, self.clock(), actor, ids)

    # -- chat identities ------------------------------------------------------------
    @command
    def set_chat_identity(self, actor, platform, external_id, person_id, handle=None):
        return usecases.set_chat_identity(self.store, actor, platform, external_id, person_id,
                                          handle)

    @command
    def delete_chat_identity(self, actor, platform, external_id):
        return usecases.delete_chat_identity(self.store, actor, platform, external_id)

    @command
    def list_chat_identities(self, actor, person_id=None):
        return usecases.list_chat_identities(self.store, actor, person_id)

    # -- the bot -------------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED, sensitive_arguments=("text", "asker"))
    def bot_answer(self, asker, text, language=None):
        """``asker``: ``{"platform", "external_id"}`` of the chat account that asked."""
        directory = Directory(self.booking, self.presence)
        person_id = resolve_asker(self.store, directory, asker, SETTINGS.chat.matrix_mapping)
        answer = conversation.reply(str(text or "")[:500], person_id, self.clock(), directory,
                                    default_language=language or "fr")
        return {"text": answer.text, "language": answer.language, "person_id": person_id}

    # -- operations -------------------------------------------------------------------
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
        counts = self.store.counts()
        for status in ("pending", "sent", "dead", "skipped"):
            LEDGER.labels(status).set(counts.get(status, 0))
        return Response(generate_latest(), status=200, content_type=CONTENT_TYPE_LATEST)


def _event_id(event):
    return event.get("event_id") if isinstance(event, dict) else None


def _json(status, body):
    return Response(json.dumps(body), status=status, content_type="application/json")
