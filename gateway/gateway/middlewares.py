"""Cross-cutting request middleware: metrics and the access log."""

from __future__ import annotations

import logging
import time
import uuid

from aiohttp import web

from .keys import ACTOR_KEY, METRICS_KEY

log = logging.getLogger("gateway.access")


def _route_label(request: web.Request) -> str:
    info = request.match_info
    route = getattr(info, "route", None)
    resource = getattr(route, "resource", None)
    if resource is None or getattr(info, "http_exception", None) is not None:
        return "unmatched"
    return resource.canonical


@web.middleware
async def observe_middleware(request: web.Request, handler):
    """Count and time every request, and write one access-log line (ids only)."""
    started = time.perf_counter()
    request_id = request.headers.get("X-Request-Id", "")
    if not (0 < len(request_id) <= 100 and request_id.isprintable()):
        request_id = uuid.uuid4().hex
    status = 500
    try:
        response = await handler(request)
        status = response.status
        response.headers["X-Request-Id"] = request_id
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        elapsed = time.perf_counter() - started
        route = _route_label(request)
        metrics = request.app[METRICS_KEY]
        metrics.requests.labels(request.method, route, str(status)).inc()
        metrics.latency.labels(request.method, route, str(status)).observe(elapsed)
        actor = request.get(ACTOR_KEY)
        log.info(
            "request",
            extra={
                "request_id": request_id,
                "http_method": request.method,
                "route": route,
                "status": status,
                "duration_ms": round(elapsed * 1000, 2),
                "token_id": str(actor.token_id) if actor is not None else None,
            },
        )
