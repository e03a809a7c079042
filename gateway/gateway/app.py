"""The composition root: ``create_app(settings)`` builds the whole gateway.

Adapters are built here and only here; each outside resource (token
database, RPC connection, catalogue events) has its own ``cleanup_ctx`` that
opens it at start-up and closes it at shutdown. A broker that is down at
start-up does not stop the gateway: it keeps trying in the background and
answers 503 (``/readyz`` too) until connected.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from typing import Awaitable, Callable

from aiohttp import web

from .adapters.tokens import TokenStore
from .audit import audit_middleware
from .auth import auth_middleware
from .catalog_cache import CatalogCache
from .errors import REQUEST_LIMIT_KEY, error_middleware
from .keys import (
    CATALOG_KEY, LIVE_KEY, METRICS_KEY, PERSON_CACHE_KEY, PRESENCE_READ_KEY, RPC_KEY, SETTINGS_KEY,
    TOKENS_KEY,
)
from .live import LiveHub
from .live_sources import SOURCES, allow_topic, authenticator, read_model_source
from .metrics import Metrics
from .middlewares import observe_middleware
from .presence_read import PresenceReadModel
from . import security
from .ratelimit import rate_limit_middleware
from .routes import api, bots, devices, docs, feeds, health
from .routes import auth as auth_routes
from .routes import plans
from .routes import web as web_app
from .routes import privacy
from .rpc import RpcClient
from .settings import Settings

log = logging.getLogger(__name__)

STARTUP_WAIT = 5.0  # seconds to wait for the broker before serving anyway
_TASKS_KEY = web.AppKey("background_tasks", list)


def create_app(settings: Settings) -> web.Application:
    metrics = Metrics()
    app = web.Application(
        middlewares=[observe_middleware, security.headers_middleware(settings), error_middleware,
                     rate_limit_middleware, auth_middleware, audit_middleware],
        client_max_size=settings.json_max_size,
    )
    app[SETTINGS_KEY] = settings
    app[REQUEST_LIMIT_KEY] = settings.json_max_size
    app[METRICS_KEY] = metrics
    app[PERSON_CACHE_KEY] = {}
    app[_TASKS_KEY] = []
    rpc = RpcClient(settings.amqp_uri, timeout=settings.rpc_timeout, observer=metrics.observe_rpc)
    app[RPC_KEY] = rpc
    app[TOKENS_KEY] = TokenStore(settings.database_url, session_idle=settings.sessions.idle)
    app[CATALOG_KEY] = CatalogCache(
        rpc, settings.amqp_uri,
        on_lookup=lambda method, result: metrics.cache.labels(method, result).inc(),
        on_invalidate=lambda reason: metrics.cache_invalidations.labels(reason).inc(),
    )
    app.cleanup_ctx.append(_token_store)
    security.install(app, settings)  # Redis for sign-in flows and rate limits, the OpenID client
    app.cleanup_ctx.append(_rpc_client)
    app.cleanup_ctx.append(_catalog_cache)
    app.cleanup_ctx.append(bots.webhook_guard)
    app.cleanup_ctx.append(devices.device_store)
    app.cleanup_ctx.append(privacy.privacy_context)  # audit log, erasure, retention
    app.cleanup_ctx.append(feeds.feed_store)
    app.cleanup_ctx.append(plans.plan_store)
    app[PRESENCE_READ_KEY] = PresenceReadModel(settings.redis_url, settings.presence_redis_prefix,
                                                registry=metrics.registry)
    authenticate, recheck = authenticator(app)
    reader = app[PRESENCE_READ_KEY]
    app[LIVE_KEY] = LiveHub(settings.amqp_uri, [*SOURCES, read_model_source(reader)],
                            authenticate=authenticate, recheck=recheck, allow_topic=allow_topic,
                            allowed_origins=settings.allowed_origins, registry=metrics.registry)
    app[LIVE_KEY].state_listeners.append(reader.set_live)
    # A revoked token's live sockets close at once (the token store's NOTIFY).
    app[TOKENS_KEY].change_listeners.append(app[LIVE_KEY].token_changed)
    app.cleanup_ctx.append(_presence_read)
    app.cleanup_ctx.append(_live_hub)
    app.on_shutdown.append(_close_live_sockets)  # before the server waits for open requests
    app.on_startup.append(_freeze_gc)
    app.router.add_get("/api/v1/live", app[LIVE_KEY].handle, name="live")
    api.install(app)
    docs.install(app, api)
    devices.install_page(app)
    feeds.install_public(app)
    health.install(app)
    auth_routes.install(app)
    web_app.install(app)
    return app


async def _token_store(app: web.Application):
    store = app[TOKENS_KEY]
    await store.open(wait=False)  # the pool connects (and reconnects) in the background
    yield
    await store.close()


async def _rpc_client(app: web.Application):
    rpc = app[RPC_KEY]
    await _start_in_background(app, "amqp-rpc", rpc.connect)
    yield
    await rpc.close()


async def _catalog_cache(app: web.Application):
    cache = app[CATALOG_KEY]
    await _start_in_background(app, "catalog-events", cache.start)
    yield
    await cache.stop()


async def _presence_read(app: web.Application):
    reader = app[PRESENCE_READ_KEY]
    await reader.open()  # connects lazily: a Redis that is down only sends reads to the RPC
    yield
    await reader.close()


async def _live_hub(app: web.Application):
    hub = app[LIVE_KEY]
    await _start_in_background(app, "live-events", hub.start)
    yield
    await hub.stop()


async def _freeze_gc(app: web.Application) -> None:
    """Move what start-up allocated (modules, models, routes) out of the garbage
    collector's sight: full collections then scan only what requests create,
    which keeps them from showing as latency spikes of tens of milliseconds."""
    gc.collect()
    gc.freeze()


async def _close_live_sockets(app: web.Application) -> None:
    await app[LIVE_KEY].close_all()


async def _start_in_background(app: web.Application, name: str,
                               connect: Callable[[], Awaitable[None]]) -> None:
    """Run ``connect`` until it succeeds; wait for it a few seconds at most."""

    async def keep_trying():
        delay = 0.5
        while True:
            try:
                await connect()
                log.info("connected", extra={"resource": name})
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("cannot connect yet", extra={"resource": name,
                                                         "error": type(exc).__name__})
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    task = asyncio.create_task(keep_trying(), name=f"connect-{name}")
    app[_TASKS_KEY].append(task)
    app.on_shutdown.append(lambda _app: _cancel(task))
    try:
        await asyncio.wait_for(asyncio.shield(task), STARTUP_WAIT)
    except TimeoutError:
        log.warning("serving before connection", extra={"resource": name})


async def _cancel(task: asyncio.Task) -> None:
    if not task.done():
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
