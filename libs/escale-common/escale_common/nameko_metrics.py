"""Prometheus metrics of a nameko service's entrypoints: calls and duration.

Every service counts its calls by method and outcome (``ok``; ``refused``, an
expected domain error; ``error``, a bug) and times them, under names prefixed
with the service's own (``escale_booking_calls_total``...).
"""

from __future__ import annotations

import time

from nameko.extensions import DependencyProvider
from prometheus_client import Counter, Histogram

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)

# One pair per service and process: nameko re-creates providers when it binds
# them to a container, and Prometheus refuses a name registered twice.
_INSTRUMENTS: dict[str, tuple[Counter, Histogram]] = {}


def instruments(service: str) -> tuple[Counter, Histogram]:
    if service not in _INSTRUMENTS:
        _INSTRUMENTS[service] = (
            Counter(f"escale_{service}_calls_total", "Entrypoint calls", ["method", "outcome"]),
            Histogram(f"escale_{service}_call_seconds", "Entrypoint duration", ["method"],
                      buckets=BUCKETS),
        )
    return _INSTRUMENTS[service]


class EntrypointMetrics(DependencyProvider):
    """Counts and times every entrypoint call of the service it is declared on."""

    def __init__(self, service: str):
        self.service = service

    def setup(self):
        self.calls, self.latency = instruments(self.service)

    def worker_setup(self, worker_ctx):
        worker_ctx.data["escale_started"] = time.perf_counter()

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        method = worker_ctx.entrypoint.method_name
        started = worker_ctx.data.get("escale_started")
        if started is not None:
            self.latency.labels(method).observe(time.perf_counter() - started)
        outcome = "ok"
        if exc_info is not None:
            expected = getattr(worker_ctx.entrypoint, "expected_exceptions", ())
            outcome = "refused" if isinstance(exc_info[1], expected) else "error"
        self.calls.labels(method, outcome).inc()
