"""Prometheus metrics of one gateway process, served at ``GET /metrics``.

Each app has its own registry (tests build many apps in one process).
Labels are bounded: the route's template (``/api/v1/bookings/{id}``), never
the raw path, so ids and query strings never become label values.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest

LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "escale_gateway_requests_total", "HTTP requests handled",
            ["method", "route", "status"], registry=self.registry,
        )
        self.latency = Histogram(
            "escale_gateway_request_seconds", "HTTP request latency",
            ["method", "route", "status"], buckets=LATENCY_BUCKETS, registry=self.registry,
        )
        self.rpc_latency = Histogram(
            "escale_gateway_rpc_seconds", "RPC round trip to a service",
            ["service", "method", "outcome"], buckets=LATENCY_BUCKETS, registry=self.registry,
        )
        self.cache = Counter(
            "escale_gateway_catalog_cache_total", "Catalogue cache lookups",
            ["method", "result"], registry=self.registry,
        )
        self.cache_invalidations = Counter(
            "escale_gateway_catalog_cache_invalidations_total",
            "Catalogue cache invalidations", ["reason"], registry=self.registry,
        )

    def observe_rpc(self, service: str, method: str, outcome: str, seconds: float) -> None:
        self.rpc_latency.labels(service, method, outcome).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
