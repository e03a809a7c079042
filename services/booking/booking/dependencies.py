"""nameko dependency providers: the booking service's composition root.

Adapters are built once per container in ``setup()``/``start()`` from the
environment; workers get the narrow objects (a store, a relay, a clock),
never a raw connection.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone

from nameko.extensions import DependencyProvider
from prometheus_client import Counter, Gauge, Histogram

from .adapters.db import open_pool
from .adapters.relay import OutboxRelay
from .adapters.store import BookingStore
from .settings import Settings

CALLS = Counter("escale_booking_calls_total", "Entrypoint calls", ["method", "outcome"])
LATENCY = Histogram(
    "escale_booking_call_seconds", "Entrypoint duration", ["method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
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


class Clock(DependencyProvider):
    """The current time, aware; one place to change it in tests."""

    def get_dependency(self, worker_ctx):
        return lambda: datetime.now(timezone.utc)


class Metrics(DependencyProvider):
    """Counts and times every entrypoint call for Prometheus."""

    def worker_setup(self, worker_ctx):
        worker_ctx.data["escale_started"] = time.perf_counter()

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        method = worker_ctx.entrypoint.method_name
        started = worker_ctx.data.get("escale_started")
        if started is not None:
            LATENCY.labels(method).observe(time.perf_counter() - started)
        outcome = "ok"
        if exc_info is not None:
            expected = getattr(worker_ctx.entrypoint, "expected_exceptions", ())
            outcome = "refused" if isinstance(exc_info[1], expected) else "error"
        CALLS.labels(method, outcome).inc()
