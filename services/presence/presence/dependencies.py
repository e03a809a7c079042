"""nameko dependency providers: the presence service's composition root.

Adapters are built once per container from the environment (``setup`` /
``start``); workers get narrow objects: the stores, the booking port, the
search index, a clock, and the error localiser. Nothing else imports nameko
besides ``service.py``.
"""

from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from datetime import datetime, timezone

import eventlet
from nameko.extensions import DependencyProvider
from nameko.rpc import RpcProxy
from prometheus_client import Counter, Gauge

from .adapters.db import open_pool
from .adapters.readmodel import ReadModel, connect
from .adapters.relay import OutboxRelay
from .adapters.store import PresenceStore
from .domain.errors import DomainError
from .domain.search import Index
from .settings import Settings
from .usecases import Config, Upkeep

log = logging.getLogger(__name__)

EVENTS = Counter("escale_presence_booking_events_total", "Booking events handled", ["outcome"])
OUTBOX_PUBLISHED = Counter("escale_presence_outbox_published_total", "Events published by the relay")
OUTBOX_PENDING = Gauge("escale_presence_outbox_pending", "Outbox rows waiting to be published")
SEARCH_SIZE = Gauge("escale_presence_search_people", "People in this process's search index")

BOOKING_TIMEOUT = 10.0


class Stores(DependencyProvider):
    """The PostgreSQL store, the Redis read model and the configuration (one per container)."""

    def setup(self):
        self.settings = Settings.from_env()
        self.config = Config.from_settings(self.settings)
        self.upkeep = Upkeep()
        # Built in setup(): every extension is set up before any starts, and the
        # eager maintenance timer may fire as soon as the timers start.
        self.pool = open_pool(self.settings.database_url, self.settings.db_pool_size)
        self.store = PresenceStore(self.pool)
        self.redis = connect(self.settings.redis_url)
        self.model = ReadModel(self.redis, self.settings.redis_prefix)

    def stop(self):
        self.pool.close()
        self.redis.close()

    def get_dependency(self, worker_ctx):
        return self


class BookingClient:
    """The booking service as presence uses it: three calls, each with a deadline."""

    def __init__(self, proxy):
        self._proxy = proxy

    def _call(self, method, **kwargs):
        with eventlet.Timeout(BOOKING_TIMEOUT):
            return getattr(self._proxy, method)(**kwargs)

    def active_bookings(self, start, end, after=None, limit=2000):
        return self._call("active_bookings", start=start, end=end, after=after, limit=limit)

    def export_people(self, after=None, limit=1000, updated_since=None, person_ids=None):
        return self._call("export_people", after=after, limit=limit, updated_since=updated_since,
                          person_ids=person_ids)

    def list_sites(self):
        return self._call("list_sites")


class Booking(RpcProxy):
    def __init__(self):
        super().__init__("booking")

    def get_dependency(self, worker_ctx):
        return BookingClient(super().get_dependency(worker_ctx))


class Relay(DependencyProvider):
    def setup(self):
        self.settings = Settings.from_env()
        self.pool = open_pool(self.settings.database_url, 2)
        self.relay = OutboxRelay(self.pool, self.settings.outbox_amqp_uri)

    def stop(self):
        self.relay.close()
        self.pool.close()

    def get_dependency(self, worker_ctx):
        return self.relay


class SearchIndex(DependencyProvider):
    """This process's people index, rebuilt when the directory's version moves."""

    CHECK_EVERY = 2.0

    def setup(self):
        self.settings = Settings.from_env()
        self.redis = connect(self.settings.redis_url)
        self.model = ReadModel(self.redis, self.settings.redis_prefix)
        self.index = Index([])
        self.version = -1
        self.checked = 0.0

    def stop(self):
        self.redis.close()

    def current(self) -> Index:
        now = time.monotonic()
        if now - self.checked >= self.CHECK_EVERY:
            self.checked = now
            version = self.model.directory_version()
            if version != self.version:
                entries = self.model.all_directory()
                self.index = Index(
                    {**e["card"], "email": e.get("contacts", {}).get("email", "")} for e in entries.values())
                self.version = version
                SEARCH_SIZE.set(len(self.index))
        return self.index

    def get_dependency(self, worker_ctx):
        return self.current


class Clock(DependencyProvider):
    def get_dependency(self, worker_ctx):
        return lambda: datetime.now(timezone.utc)


class Localized(DependencyProvider):
    """``with self.localized:`` renders domain errors in the caller's language
    (nameko's ``language`` context data, sent by the gateway)."""

    def get_dependency(self, worker_ctx):
        language = worker_ctx.data.get("language")

        @contextmanager
        def localized():
            try:
                yield
            except DomainError as exc:
                raise exc.localized(language)

        return localized
