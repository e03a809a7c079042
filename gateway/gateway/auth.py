"""Authentication: a bearer token, else the browser's session cookie.

Every authenticated request looks its token (or session) up by SHA-256 in
the gateway database, so a revoked or expired one is refused at once on
every replica. A bearer token never needs CSRF protection (no browser sends
it on its own); a session cookie does, on every state-changing request
(``sessions.py``). The caller becomes an :class:`~gateway.policy.Actor` on the
request. A token issued with only an email (``escale token create --email E
--role R``) is linked to its person through ``booking.get_person_by_email``,
remembered for a few minutes.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import datetime, timezone

from aiohttp import web

from .adapters.tokens import TokenRecord
from .errors import ApiError
from .keys import ACTOR_KEY, PERSON_CACHE_KEY, RPC_KEY, SETTINGS_KEY, TOKENS_KEY
from .policy import Actor, Role
from .rpc import RemoteError, RpcError, ServiceUnavailable
from .sessions import (
    CSRF_HEADER, CSRF_KEY, SAFE_METHODS, SESSION_COOKIE, csrf_token_for, csrf_valid,
    session_usable,
)

log = logging.getLogger(__name__)

PERSON_TTL = 300.0        # a found person, seconds
NO_PERSON_TTL = 30.0      # "no such person" is re-asked sooner
PEOPLE_ROLES = (Role.AGENT, Role.SITE_ADMIN, Role.ADMIN)


def bearer_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


_FOUND = web.RequestKey("credentials_found", dict)


async def lookup(request: web.Request, token: str) -> TokenRecord | None:
    """``find_credential``, once per request (the rate limiter asks first)."""
    found = request.get(_FOUND)
    if found is None:
        found = request[_FOUND] = {}
    if token not in found:
        found[token] = await find_credential(request.app, token)
    return found[token]


async def find_credential(app: web.Application, token: str) -> TokenRecord | None:
    try:
        return await app[TOKENS_KEY].find(token)
    except Exception as exc:  # the token store is down: not the caller's fault
        log.error("token store unreachable", extra={"error": type(exc).__name__})
        raise ServiceUnavailable("authentication", type(exc).__name__) from exc


def credential_usable(app: web.Application, record: TokenRecord | None) -> bool:
    """A token not revoked nor expired; a session not idle for too long either."""
    if record is None:
        return False
    now = datetime.now(timezone.utc)
    if record.is_session:
        return session_usable(record, now, app[SETTINGS_KEY].sessions)
    return record.usable_at(now)


async def session_of(request: web.Request) -> tuple[str, TokenRecord] | None:
    """The request's live session (cookie value and record), or None."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    record = await lookup(request, token)
    if record is None or not record.is_session or not credential_usable(request.app, record):
        return None
    return token, record


async def authenticate(request: web.Request) -> Actor:
    token = bearer_token(request)
    if token is not None:
        record = await lookup(request, token)
        if record is None or record.is_session or not credential_usable(request.app, record):
            raise ApiError("unauthorized", "auth_invalid")
    elif SESSION_COOKIE in request.cookies:
        session = await session_of(request)
        if session is None:
            raise ApiError("unauthorized", "session_invalid")
        token, record = session
        if request.method not in SAFE_METHODS and not csrf_valid(
                token, request.headers.get(CSRF_HEADER)):
            raise ApiError("csrf_failed", "csrf_invalid")
        request[CSRF_KEY] = csrf_token_for(token)
    else:
        raise ApiError("unauthorized", "auth_missing")
    return await actor_of(request.app, record)


async def actor_of(app: web.Application, record: TokenRecord) -> Actor:
    role = Role(record.role)
    person_id = record.person_id
    if person_id is None and role in PEOPLE_ROLES:
        person_id = await _person_of(app, record.id, record.email)
    return Actor(
        token_id=record.id,
        role=role,
        email=record.email,
        person_id=person_id,
        site_ids=frozenset(record.site_ids),
        room_id=record.room_id,
    )


async def _person_of(app: web.Application, token_id: uuid.UUID, email: str) -> uuid.UUID | None:
    cache: dict = app[PERSON_CACHE_KEY]
    cached = cache.get(token_id)
    now = time.monotonic()
    if cached is not None and cached[0] > now:
        return cached[1]
    try:
        person = await app[RPC_KEY].call("booking", "get_person_by_email", email=email)
        person_id = uuid.UUID(str(person["id"]))
        ttl = PERSON_TTL
    except RemoteError as exc:
        if not (isinstance(exc.exc_args, list) and exc.exc_args and exc.exc_args[0] == "not_found"):
            log.warning("person lookup failed", extra={"token_id": str(token_id),
                                                       "exc_type": exc.exc_type})
        person_id, ttl = None, NO_PERSON_TTL
    except (RpcError, KeyError, TypeError, ValueError) as exc:
        # Not cached: the next request asks again.
        log.warning("person lookup unavailable", extra={"token_id": str(token_id),
                                                        "error": type(exc).__name__})
        return None
    if len(cache) > 10000:
        cache.clear()
    cache[token_id] = (now + ttl, person_id)
    return person_id


@web.middleware
async def auth_middleware(request: web.Request, handler):
    """Authenticate the routes the registry declares as secured."""
    operation = getattr(request.match_info.handler, "operation", None)
    if operation is not None and operation.auth:
        request[ACTOR_KEY] = await authenticate(request)
    return await handler(request)
