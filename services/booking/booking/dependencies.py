"""nameko dependency providers: the booking service's composition root.

Adapters are built once per container in ``setup()``/``start()`` from the
environment; workers get the narrow objects (a store, a relay, a clock),
never a raw connection.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from escale_common.outbox import take_written
from escale_common import nameko_language
from nameko.extensions import DependencyProvider
from prometheus_client import Counter, Gauge

from .adapters.db import open_pool
from .adapters.relay import OutboxRelay
from .adapters.store import BookingStore
from .domain import messages
from .settings import Settings

log = logging.getLogger(__name__)

OUTBOX_PUBLISHED = Counter("escale_booking_outbox_published_total", "Events published by the relay")
OUTBOX_PENDING = Gauge("escale_booking_outbox_pending", "Outbox rows waiting to be published")


class _Database:
    """One pool per container, shared by the store and the relay providers."""

    pools: dict = {}

    @classmethod
    def pool(cls, container, settings: Settings):
        key = id(container)
        if key not in cls.pools:
            cls.pools[key] = open_pool(settings.database_url, settings.db_pool_size)
        return cls.pools[key]

    @classmethod
    def close(cls, container):
        pool = cls.pools.pop(id(container), None)
        if pool is not None:
            pool.close()


class Store(DependencyProvider):
    def setup(self):
        # Built in setup(), not start(): nameko starts every extension at once,
        # so a timer or a queued request may run a worker before start() ends.
        self.settings = Settings.from_env()
        self.store = BookingStore(_Database.pool(self.container, self.settings))

    def stop(self):
        _Database.close(self.container)

    def get_dependency(self, worker_ctx):
        return self.store


class Relay(DependencyProvider):
    """The outbox relay of this container. Besides the service's 50 ms timer,
    a worker that wrote events wakes it as it ends (its transaction has
    committed by then), so an event leaves within a few milliseconds of its
    change instead of 25 ms on average: what tablets and browsers wait for."""

    def setup(self):
        self.settings = Settings.from_env()
        self.relay = OutboxRelay(
            _Database.pool(self.container, self.settings),
            self.settings.outbox_amqp_uri,
            self.settings.relay_batch,
        )

    def stop(self):
        self.relay.close()

    def get_dependency(self, worker_ctx):
        return self.relay

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        if take_written() and exc_info is None:
            self.container.spawn_managed_thread(self._publish)

    def _publish(self):
        # A managed thread that raises stops the container: a failed nudge is
        # only logged, the timer's next round publishes the rows.
        try:
            published = self.relay.publish_pending()
        except Exception as exc:  # noqa: BLE001
            log.warning("outbox nudge failed; the timer retries", extra={"error": type(exc).__name__})
            return
        if published:
            OUTBOX_PUBLISHED.inc(published)


class CalendarBackends(DependencyProvider):
    """Calendar backends of this container, one per site configuration,
    built on first use from the connection row and the environment
    (credentials by reference: ESCALE_CALENDAR_<REF>_*)."""

    def setup(self):
        from .calendars.usecases import BackendPool

        self.pool = BackendPool()

    def get_dependency(self, worker_ctx):
        return self.pool


class Clock(DependencyProvider):
    """The current time, aware; one place to change it in tests."""

    def get_dependency(self, worker_ctx):
        return lambda: datetime.now(timezone.utc)


class CallerLanguage(nameko_language.CallerLanguage):
    """The caller's language current for the worker (errors worded in it)."""

    catalogue = messages.CATALOGUE