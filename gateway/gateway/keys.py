"""Typed keys of the application and request state (``web.AppKey``/``RequestKey``)."""

from __future__ import annotations

from aiohttp import web

from .adapters.tokens import TokenStore
from .catalog_cache import CatalogCache
from .live import LiveHub
from .metrics import Metrics
from .policy import Actor
from .presence_read import PresenceReadModel
from .rpc import RpcClient
from .settings import Settings

SETTINGS_KEY = web.AppKey("settings", Settings)
RPC_KEY = web.AppKey("rpc", RpcClient)
TOKENS_KEY = web.AppKey("tokens", TokenStore)
CATALOG_KEY = web.AppKey("catalog", CatalogCache)
METRICS_KEY = web.AppKey("metrics", Metrics)
PERSON_CACHE_KEY = web.AppKey("person_cache", dict)
PRESENCE_READ_KEY = web.AppKey("presence_read", PresenceReadModel)
LIVE_KEY = web.AppKey("live", LiveHub)

ACTOR_KEY = web.RequestKey("actor", Actor)
LANGUAGE_KEY = web.RequestKey("language", str)
