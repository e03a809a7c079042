"""Rate limits in Redis: per credential, and per client address for anonymous requests.

A fixed window per key, counted in Redis so every replica shares the count,
without a Redis round trip per request: that round trip doubled the CPU a
cached read costs and, under load, its waits made the tail of every answer
(bench/presence.py: where-is p99 60-160 ms with it, 2-4 ms without). Each
process counts locally and every ``FLUSH_SECONDS`` adds its counts to the
shared counters (one Lua script doing ``INCRBY`` and ``EXPIRE`` per counter:
a tenth of the CPU of a pipeline of as many commands), learning the totals
of all replicas in return. A request is judged against the last
total seen plus what this process counted since; so a client spread over N
replicas may pass a limit by what it sends to the N-1 others in one flush
interval, which limits meant to protect capacity can afford. Over the
limit: 429 with ``Retry-After`` (the seconds left in the window) and a
French or English message.

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

Redis unreachable: each process goes on limiting with its own counts (and
a warning is logged), and adds them to Redis once it is back. Refusing
everyone while Redis restarts would be worse than a looser limit.
"""

from __future__ import annotations

import asyncio
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
FLUSH_SECONDS = 0.2

# KEYS: counters; ARGV: (count, seconds to live) per counter. Returns the totals.
_ADD = """
local totals = {}
for i, key in ipairs(KEYS) do
  totals[i] = redis.call('INCRBY', key, ARGV[2 * i - 1])
  redis.call('EXPIRE', key, ARGV[2 * i])
end
return totals
"""


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
    """Counts requests per key in windows shared through Redis (see the module)."""

    def __init__(self, redis, prefix: str, settings: RateLimitSettings,
                 flush_seconds: float = FLUSH_SECONDS):
        self._redis = redis
        self._prefix = f"{prefix}ratelimit:"
        self.settings = settings
        self._flush_seconds = flush_seconds
        self._warned_at = 0.0
        self._pending: dict[str, int] = {}       # counter -> hits not yet sent
        self._sending: dict[str, int] = {}       # counter -> hits being sent
        self._shared: dict[str, int] = {}        # counter -> total Redis last answered
        self._ends: dict[str, tuple[int, int]] = {}  # counter -> (window end, seconds)
        self._task: asyncio.Task | None = None
        self._add = redis.register_script(_ADD)

    def hit(self, key: str, limit: Limit) -> int | None:
        """Count one request; None if allowed, else the seconds to wait."""
        now = int(time.time())
        window = now // limit.seconds
        name = f"{self._prefix}{key}:{window}"
        count = self._pending.get(name, 0) + 1
        self._pending[name] = count
        self._ends.setdefault(name, ((window + 1) * limit.seconds, limit.seconds))
        if self._shared.get(name, 0) + self._sending.get(name, 0) + count <= limit.requests:
            return None
        return max(1, (window + 1) * limit.seconds - now)

    async def flush(self) -> None:
        """Add this process's counts to Redis and learn every replica's totals."""
        now = int(time.time())
        for name in [n for n, (end, _) in self._ends.items() if end <= now]:  # windows over
            for counts in (self._pending, self._shared, self._ends):
                counts.pop(name, None)
        if not self._pending:
            return
        self._sending, self._pending = self._pending, {}
        names = list(self._sending)
        try:
            args: list[int] = []
            for name in names:
                args += (self._sending[name], self._ends[name][1] + 1)
            totals = await self._add(keys=names, args=args)
        except Exception as exc:  # noqa: BLE001 - Redis away: keep the counts, try again
            for name, count in self._sending.items():
                self._pending[name] = self._pending.get(name, 0) + count
            now_m = time.monotonic()
            if now_m - self._warned_at > _WARN_EVERY:
                self._warned_at = now_m
                log.warning("rate limit store unavailable", extra={"error": type(exc).__name__})
            return
        finally:
            self._sending = {}
        for name, total in zip(names, totals):
            if name in self._ends:
                self._shared[name] = int(total)

    async def run(self) -> None:
        """Flush every ``flush_seconds`` until cancelled."""
        while True:
            await asyncio.sleep(self._flush_seconds)
            await self.flush()

    async def start(self) -> None:
        if self._task is None and (self.settings.per_credential.on or self.settings.per_address.on):
            self._task = asyncio.create_task(self.run(), name="rate-limit-flush")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        await self.flush()  # the last counts are not lost to the other replicas

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
        wait = self.hit(key, limit)
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
