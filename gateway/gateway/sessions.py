"""Browser sessions: the ``escale_session`` cookie and its CSRF token.

A session is a credential of the token store (``adapters/tokens.py``): a
row of kind ``session`` found by the SHA-256 of the cookie's value, cached
in memory and dropped on every replica by PostgreSQL's NOTIFY when revoked.
So admins list and revoke sessions as they do tokens, and a revoked session
is refused at once.

The cookie is HttpOnly (page scripts never see the credential), SameSite=Lax
(other sites' forms and scripts do not send it on POST) and Secure except in
development over plain http. A session ends at ``expires_at`` (absolute
lifetime) or after ``idle`` without use.

CSRF: every state-changing request authenticated by the cookie carries
``X-CSRF-Token``. The token is derived from the session's secret value
(HMAC), so it needs no storage, is bound to that one session, and cannot be
computed by anyone who does not hold the cookie. Page scripts read it from
the non-HttpOnly ``escale_csrf`` cookie or from ``GET /api/v1/me``; another
origin can read neither.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Mapping
from urllib.parse import urlsplit

from aiohttp import web

from .adapters.tokens import TokenRecord

SESSION_COOKIE = "escale_session"
CSRF_COOKIE = "escale_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"  # the same token as a form field (plain HTML forms)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# The request's session, when it was authenticated by the cookie.
CSRF_KEY = web.RequestKey("csrf_token", str)


@dataclass(frozen=True)
class SessionSettings:
    """How long sessions last and whether the demo sign-in exists."""

    idle: timedelta = timedelta(minutes=30)
    absolute: timedelta = timedelta(hours=10)
    demo_signin: bool = True
    demo_admins: frozenset[str] = frozenset({"admin.demo@mairie-exemple.fr"})

    @classmethod
    def from_env(cls, env: Mapping[str, str], mode: str) -> "SessionSettings":
        from .settings import SettingsError

        def minutes(name: str, default: timedelta, low: int) -> timedelta:
            raw = env.get(name, "").strip()
            if not raw:
                return default
            try:
                value = int(raw)
                if value < low:
                    raise ValueError
            except ValueError:
                raise SettingsError(f"{name} must be a whole number of minutes, at least {low}") from None
            return timedelta(minutes=value)

        # The idle clock is refreshed about every two minutes of use (token cache).
        idle = minutes("ESCALE_SESSION_IDLE_MINUTES", cls.idle, 5)
        absolute = minutes("ESCALE_SESSION_MAX_MINUTES", cls.absolute, 5)
        raw_demo = env.get("ESCALE_DEMO_SIGNIN", "").strip().lower()
        if raw_demo in ("", "default"):
            demo = mode == "development"
        elif raw_demo in ("1", "true", "yes", "on"):
            demo = True
        elif raw_demo in ("0", "false", "no", "off"):
            demo = False
        else:
            raise SettingsError("ESCALE_DEMO_SIGNIN must be 1 or 0")
        raw_admins = env.get("ESCALE_DEMO_ADMINS")
        admins = cls.demo_admins if raw_admins is None else frozenset(
            e.strip().lower() for e in raw_admins.split(",") if e.strip())
        return cls(idle=idle, absolute=absolute, demo_signin=demo, demo_admins=admins)


def csrf_token_for(session_token: str) -> str:
    """The session's CSRF token: HMAC of a fixed label keyed by the session value."""
    digest = hmac.new(session_token.encode(), b"escale-csrf-v1", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def csrf_valid(session_token: str, presented: str | None) -> bool:
    return bool(presented) and hmac.compare_digest(csrf_token_for(session_token), presented)


def session_usable(record: TokenRecord, now: datetime, settings: SessionSettings) -> bool:
    """Not revoked, not past its absolute end, not idle for too long."""
    if not record.usable_at(now):
        return False
    last = record.last_used_at or record.created_at
    return last is None or last + settings.idle > now


def secure_cookies(request: web.Request, env: str) -> bool:
    """Secure unless developing over plain http (behind a TLS proxy the
    gateway sees http, but production is never development)."""
    return not (env == "development" and request.scheme == "http")


def set_session_cookies(response: web.StreamResponse, request: web.Request, token: str,
                        settings: SessionSettings, env: str) -> None:
    secure = secure_cookies(request, env)
    max_age = int(settings.absolute.total_seconds())
    response.set_cookie(SESSION_COOKIE, token, max_age=max_age, path="/", httponly=True,
                        secure=secure, samesite="Lax")
    response.set_cookie(CSRF_COOKIE, csrf_token_for(token), max_age=max_age, path="/",
                        httponly=False, secure=secure, samesite="Lax")


def clear_session_cookies(response: web.StreamResponse, request: web.Request, env: str) -> None:
    secure = secure_cookies(request, env)
    for name, httponly in ((SESSION_COOKIE, True), (CSRF_COOKIE, False)):
        response.set_cookie(name, "", max_age=0, expires="Thu, 01 Jan 1970 00:00:00 GMT",
                            path="/", httponly=httponly, secure=secure, samesite="Lax")


def safe_next(value: str | None) -> str:
    """A same-origin path to go to after sign-in, or ``/``.

    Refuses absolute URLs, scheme-relative ``//host`` and backslash tricks
    that browsers read as another host.
    """
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    if any(ord(c) < 32 for c in value):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/"
    return value
