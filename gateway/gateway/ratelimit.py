"""Rate limits in Redis: per credential, and per client address for anonymous requests.

A fixed window per key: ``INCR`` then ``EXPIRE`` on the first hit, in one
transaction, so every replica shares the count. Over the limit: 429 with
``Retry-After`` (the seconds left in the window) and a French or English
message.

* A request carrying a known credential (bearer token or session cookie,
  looked up in the token store, from memory for live ones) counts against
  that credential (keyed by its id: no token is written to Redis), wherever
  it comes from: many agents behind one town hall's address are not lumped
  together.
* A request without one, or with one the store does not know (sign-in
  pages, public documents, bots' webhooks, someone trying made-up tokens),
  counts against the client's address (``request.remote``, or the
  ``ESCALE_TRUSTED_PROXY_HOPS``-th address from the right of
  ``X-Forwarded-For`` behind a trusted reverse proxy).
* Health, readiness, metrics and static files are never limited.

Redis unreachable: requests pass (and a warning is logged). Limiting
protects capacity; refusing everyone while Redis restarts would be worse.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Mapping

from aiohttp import web

from . import i18n
from .errors import error_response, language_of

log = logging.getLogger(__name__)

EXEMPT_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
_WARN_EVERY = 30.0


@dataclass(frozen=True)
class Limit:
    """At most ``requests`` per ``seconds``; ``requests == 0`` means no limit."""

    requests: int
    seconds: int

    @property
    def on(self) -> bool:
        return self.requests > 0

    @classmethod
    def parse(cls, name: str, text: str) -> "Limit":
        """``600/60`` (600 per 60 s), ``600`` (per minute) or ``0`` (off)."""
        from .settings import SettingsError

        count, _, window = text.strip().partition("/")
        try:
            requests = int(count)
            seconds = int(window) if window else 60
            if requests < 0 or not 1 <= seconds <= 86400:
                raise ValueError
        except ValueError:
            raise SettingsError(f"{name} must look like 600/60 (requests per seconds), or 0 (off)") from None
        return cls(requests, seconds)


@dataclass(frozen=True)
class RateLimitSettings:
    per_credential: Limit = Limit(0, 60)
    per_address: Limit = Limit(0, 60)
    proxy_hops: int = 0

    @classmethod
    def from_env(cls, env: Mapping[str, str], mode: str) -> "RateLimitSettings":
        """On by default in production only: benchmarks and tests of other
        areas drive one token hard on one machine."""
        from .settings import SettingsError

        production = mode == "production"
        token = env.get("ESCALE_RATE_LIMIT_TOKEN", "").strip() or ("600/60" if production else "0")
        address = env.get("ESCALE_RATE_LIMIT_ADDRESS", "").strip() or ("300/60" if production else "0")
        try:
            hops = int(env.get("ESCALE_TRUSTED_PROXY_HOPS", "").strip() or "0")
            if not 0 <= hops <= 5:
                raise ValueError
        except ValueError:
            raise SettingsError("ESCALE_TRUSTED_PROXY_HOPS must be 0 to 5") from None
        return cls(Limit.parse("ESCALE_RATE_LIMIT_TOKEN", token),
                   Limit.parse("ESCALE_RATE_LIMIT_ADDRESS", address), hops)


def client_address(request: web.Request, hops: int) -> str:
    """The caller's address: the peer, or the one a trusted proxy saw."""
    if hops > 0:
        forwarded = [a.strip() for a in request.headers.get("X-Forwarded-For", "").split(",")
                     if a.strip()]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return request.remote or "unknown"


def credential_of(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get("escale_session") or None


def _exempt(request: web.Request) -> bool:
    if request.path in EXEMPT_PATHS:
        return True
    route = getattr(request.match_info, "route", None)
    return isinstance(getattr(route, "resource", None), web.StaticResource)


class RateLimiter:
    """Counts requests per key in Redis windows."""

    def __init__(self, redis, prefix: str, settings: RateLimitSettings):
        self._redis = redis
        self._prefix = f"{prefix}ratelimit:"
        self.settings = settings
        self._warned_at = 0.0

    async def hit(self, key: str, limit: Limit) -> int | None:
        """Count one request; None if allowed, else the seconds to wait."""
        window = int(time.time()) // limit.seconds
        name = f"{self._prefix}{key}:{window}"
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incr(name)
                pipe.expire(name, limit.seconds + 1)
                count, _ = await pipe.execute()
        except Exception as exc:  # noqa: BLE001 - Redis away: let requests through
            now = time.monotonic()
            if now - self._warned_at > _WARN_EVERY:
                self._warned_at = now
                log.warning("rate limit store unavailable", extra={"error": type(exc).__name__})
            return None
        if count <= limit.requests:
            return None
        return max(1, (window + 1) * limit.seconds - int(time.time()))

    @staticmethod
    async def _known(request: web.Request, credential: str | None):
        if credential is None:
            return None
        from .auth import lookup  # auth -> keys -> settings -> this module

        try:
            return await lookup(request, credential)
        except Exception:  # noqa: BLE001 - the store is down: authentication answers 503
            return None

    async def check(self, request: web.Request) -> web.Response | None:
        settings = self.settings
        if not (settings.per_credential.on or settings.per_address.on) or _exempt(request):
            return None
        record = await self._known(request, credential_of(request))
        if record is not None:
            limit = self.settings.per_credential
            key = f"cred:{record.id}"
        else:
            limit = self.settings.per_address
            key = "addr:" + client_address(request, self.settings.proxy_hops)
        if not limit.on:
            return None
        wait = await self.hit(key, limit)
        if wait is None:
            return None
        log.warning("rate limited", extra={"kind": key.split(":", 1)[0], "path": request.path})
        language = language_of(request)
        return error_response(
            429, "rate_limited",
            i18n.message("rate_limited", language, limit=limit.requests, seconds=limit.seconds,
                         wait=wait),
            headers={"Retry-After": str(wait)},
        )


RATE_LIMITER_KEY = web.AppKey("rate_limiter", RateLimiter)


@web.middleware
async def rate_limit_middleware(request: web.Request, handler):
    limiter = request.app.get(RATE_LIMITER_KEY)
    if limiter is not None:
        refused = await limiter.check(request)
        if refused is not None:
            return refused
    return await handler(request)
