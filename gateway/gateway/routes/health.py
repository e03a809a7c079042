"""Probes and metrics, outside /api/v1 and unauthenticated."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from ..keys import CATALOG_KEY, METRICS_KEY, RPC_KEY, TOKENS_KEY


async def healthz(request: web.Request) -> web.Response:
    """The process is alive (no dependency is checked)."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Ready to serve: the AMQP connection is up and the gateway database answers."""
    app = request.app
    checks = {
        "amqp": app[RPC_KEY].connected,
        "database": await app[TOKENS_KEY].ping(timeout=2.0),
    }
    ready = all(checks.values())
    checks["catalog_events"] = app[CATALOG_KEY].live  # informative: the cache is bypassed if not
    return web.json_response({"status": "ready" if ready else "not_ready", "checks": checks},
                             status=200 if ready else 503)


async def metrics(request: web.Request) -> web.Response:
    return web.Response(body=request.app[METRICS_KEY].render(),
                        headers={"Content-Type": CONTENT_TYPE_LATEST})


def install(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz, name="healthz")
    app.router.add_get("/readyz", readyz, name="readyz")
    app.router.add_get("/metrics", metrics, name="metrics")
