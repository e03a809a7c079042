"""Security headers, and the wiring of the gateway's identity pieces.

Every response carries:

* ``Content-Security-Policy``: pages set their own (no inline script
  anywhere); anything else gets a default that allows only same-origin
  resources and no framing. ``frame-ancestors 'none'`` everywhere, except
  the door tablet page ``/display`` when ``ESCALE_DISPLAY_FRAME_ANCESTORS``
  names the origins allowed to frame it (a digital-signage player, an
  intranet portal);
* ``X-Frame-Options: DENY`` (older browsers) on the same terms;
* ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: same-origin`` (an
  OpenID callback URL never leaks its code to another site; ``no-referrer``
  would also make browsers send ``Origin: null`` on the gateway's own form
  posts, which the sign-in form must tell from other sites'), ``Cross-Origin-Opener-Policy``
  and a ``Permissions-Policy`` that turns off camera, microphone and
  geolocation;
* ``Strict-Transport-Security`` in production or over https.

``install(app)`` adds the Redis client shared by the OpenID sign-in's
pending flows and the rate limiter, and the OpenID client.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Mapping

import aiohttp
import redis.asyncio as aioredis
from aiohttp import web

from .oidc import FlowStore, OidcClient
from .ratelimit import RATE_LIMITER_KEY, RateLimiter, RateLimitSettings

log = logging.getLogger(__name__)

DEFAULT_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
               "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
               "frame-ancestors 'none'")
DISPLAY_PATH = "/display"
HSTS = "max-age=31536000; includeSubDomains"
_ORIGIN = re.compile(r"^(https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?|'self')$")

REDIS_KEY = web.AppKey("security_redis", aioredis.Redis)
OIDC_KEY = web.AppKey("oidc_client", OidcClient)
FLOWS_KEY = web.AppKey("oidc_flows", FlowStore)


@dataclass(frozen=True)
class SecuritySettings:
    redis_prefix: str = "escale:gateway:"
    display_frame_ancestors: tuple[str, ...] = ()
    rate_limits: RateLimitSettings = field(default_factory=RateLimitSettings)

    @classmethod
    def from_env(cls, env: Mapping[str, str], mode: str) -> "SecuritySettings":
        from .settings import SettingsError

        ancestors = tuple(a.strip().rstrip("/") for a in
                          env.get("ESCALE_DISPLAY_FRAME_ANCESTORS", "").split() if a.strip())
        for origin in ancestors:
            if not _ORIGIN.match(origin):
                raise SettingsError("ESCALE_DISPLAY_FRAME_ANCESTORS: space-separated origins "
                                    "(https://signage.example.org) or 'self'")
        return cls(
            redis_prefix=env.get("ESCALE_GATEWAY_REDIS_PREFIX", "").strip() or "escale:gateway:",
            display_frame_ancestors=ancestors,
            rate_limits=RateLimitSettings.from_env(env, mode),
        )


def _headers(request: web.Request, headers, settings) -> None:
    framable = request.path == DISPLAY_PATH and settings.security.display_frame_ancestors
    csp = headers.get("Content-Security-Policy")
    if csp is None:
        csp = DEFAULT_CSP
    if framable:
        allowed = " ".join(settings.security.display_frame_ancestors)
        csp = re.sub(r"frame-ancestors[^;]*", f"frame-ancestors {allowed}", csp)
        if "frame-ancestors" not in csp:
            csp = f"{csp}; frame-ancestors {allowed}"
    else:
        headers.setdefault("X-Frame-Options", "DENY")
    headers["Content-Security-Policy"] = csp
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if settings.production or request.scheme == "https":
        headers.setdefault("Strict-Transport-Security", HSTS)


def headers_middleware(settings):
    """The middleware adding security headers to every response (``settings``: the gateway's)."""

    @web.middleware
    async def security_headers(request: web.Request, handler):
        try:
            response = await handler(request)
        except web.HTTPException as exc:  # redirects pass through the error middleware as is
            _headers(request, exc.headers, settings)
            raise
        if not response.prepared:  # a WebSocket or a stream has sent its headers already
            _headers(request, response.headers, settings)
        return response

    return security_headers


async def _redis(app: web.Application, settings):
    client = aioredis.from_url(settings.redis_url, socket_timeout=2, socket_connect_timeout=2)
    app[REDIS_KEY] = client
    limiter = RateLimiter(client, settings.security.redis_prefix, settings.security.rate_limits)
    app[RATE_LIMITER_KEY] = limiter
    app[FLOWS_KEY] = FlowStore(client, settings.security.redis_prefix)
    await limiter.start()
    yield
    await limiter.stop()
    await client.aclose()


async def _oidc(app: web.Application, settings):
    if not settings.oidc.enabled:
        yield
        return
    http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
    app[OIDC_KEY] = OidcClient(settings.oidc, http)  # discovers the provider on first use
    yield
    await http.close()


def install(app: web.Application, settings) -> None:
    app.cleanup_ctx.append(lambda app: _redis(app, settings))
    app.cleanup_ctx.append(lambda app: _oidc(app, settings))
