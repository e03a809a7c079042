"""Errors and their HTTP statuses: the one table, and the one middleware.

Every error response has the same shape::

    {"error": "<stable code>", "message": "<human sentence>", ...details}

``details`` are ``field`` for bad input, ``conflict`` for 409s, ``errors``
for CSV imports. Domain errors of the booking service arrive as nameko
remote errors (``exc_path`` under ``booking.domain.errors.``, ``exc_args =
[code, message, details]``) and keep their code and message (a blank
message becomes the catalogue's sentence for the code, ``i18n``). Anything
unexpected becomes a 500 ``internal_error`` whose detail goes to the log
only: never a stack trace in a response.
"""

from __future__ import annotations

import functools
import json
import logging
from typing import Any

from aiohttp import web

from . import i18n
from .rpc import RemoteError, ServiceTimeout, ServiceUnavailable

log = logging.getLogger(__name__)

# A service's store was unreachable (PostgreSQL or Redis restarting, a pool
# exhausted): the request may succeed in a moment, so 503, never 500.
STORE_UNAVAILABLE_PATHS = frozenset({
    "psycopg.OperationalError", "psycopg.errors.AdminShutdown", "psycopg.errors.CannotConnectNow",
    "psycopg.errors.ConnectionFailure", "psycopg.errors.ConnectionException",
    "psycopg_pool.PoolTimeout", "psycopg_pool.TooManyRequests",
    "redis.exceptions.ConnectionError", "redis.exceptions.TimeoutError",
})

# The services whose domain errors keep their code and message (same shape).
DOMAIN_ERROR_PREFIX = ("booking.domain.errors.", "presence.domain.errors.",
                       "notify.domain.errors.")

# code -> HTTP status. Domain codes first (docs/architecture.md), then the
# gateway's own.
STATUS: dict[str, int] = {
    # booking service (domain)
    "not_found": 404,
    "forbidden": 403,
    "restricted_resource": 403,
    "invalid": 422,
    "import_rejected": 422,
    "idempotency_key_reused": 422,
    "too_far_ahead": 422,
    "in_the_past": 422,
    "too_long": 422,
    "outside_opening_hours": 422,
    "site_closed": 422,
    "public_holiday": 422,
    "check_in_not_open": 422,
    "recurrence_too_long": 422,
    "rule_violation": 422,
    "resource_already_booked": 409,
    "person_already_has_desk": 409,
    "invalid_state": 409,
    "not_empty": 409,
    "conflict": 409,
    # gateway
    "bad_request": 400,
    "invalid_json": 400,
    "unauthorized": 401,
    "method_not_allowed": 405,
    "too_large": 413,
    "too_many_requests": 429,
    "unsupported_media_type": 415,
    "bad_signature": 401,
    "stale_request": 401,
    "replayed_request": 409,
    "bot_not_configured": 404,
    "csrf_failed": 403,
    "rate_limited": 429,
    "internal_error": 500,
    "service_unavailable": 503,
    "service_timeout": 504,
}
# A deliberate domain error whose code the table does not know yet.
UNKNOWN_DOMAIN_STATUS = 400

_RESERVED = ("error", "message")


class ApiError(Exception):
    """An error the gateway answers itself, with a catalogue message."""

    def __init__(self, code: str, key: str, /, *, details: dict | None = None, **params):
        super().__init__(code)
        self.code = code
        self.key = key
        self.params = params
        self.details = details or {}
        self.text: str | None = None  # set when the message is already translated

    def message(self, language: str) -> str:
        return self.text or i18n.message(self.key, language, **self.params)

    @property
    def status(self) -> int:
        return STATUS[self.code]


def invalid(field: str, key: str = "invalid_field", **params) -> ApiError:
    """A 422 naming ``field``."""
    return ApiError("invalid", key, details={"field": field}, field=field, **params)


def language_of(request: web.Request) -> str:
    return i18n.pick_language(request.headers.get("Accept-Language"))


def error_response(status: int, code: str, message: str, details: dict | None = None,
                   headers: dict | None = None) -> web.Response:
    body: dict[str, Any] = {"error": code, "message": message}
    for key, value in (details or {}).items():
        if key not in _RESERVED:
            body[key] = value
    return web.json_response(body, status=status, headers=headers,
                             dumps=functools.partial(json.dumps, ensure_ascii=False))


def domain_error(exc: RemoteError, language: str = i18n.DEFAULT_LANGUAGE,
                 ) -> tuple[int, str, str, dict] | None:
    """(status, code, message, details) of a services' domain error, else None."""
    if not (exc.exc_path or "").startswith(DOMAIN_ERROR_PREFIX):
        return None
    args = exc.exc_args
    if not (isinstance(args, list) and len(args) >= 2 and isinstance(args[0], str)
            and isinstance(args[1], str)):
        return None
    details = args[2] if len(args) > 2 else {}
    if isinstance(details, str):  # services send details as JSON text (types survive)
        try:
            details = json.loads(details)
        except ValueError:
            details = {}
    if not isinstance(details, dict):
        details = {}
    code = args[0]
    status = STATUS.get(code)
    if status is None or status >= 500:
        log.warning("unmapped domain error code", extra={"code": code, "exc_path": exc.exc_path})
        status = UNKNOWN_DOMAIN_STATUS
    # A service's own message says more; without one, the catalogue's.
    message = args[1] if args[1].strip() else i18n.error_message(code, language)
    return status, code, message, details


_HTTP_CODES = {
    400: ("bad_request", "bad_request"),
    404: ("not_found", "route_not_found"),
    405: ("method_not_allowed", "method_not_allowed"),
    413: ("too_large", "too_large"),
    415: ("unsupported_media_type", "unsupported_media_type"),
}


def _from_http_exception(exc: web.HTTPException, request: web.Request) -> web.Response:
    lang = language_of(request)
    code, key = _HTTP_CODES.get(exc.status, (None, None))
    if code is None:
        code = "internal_error" if exc.status >= 500 else "bad_request"
        key = code
    params: dict[str, Any] = {}
    if isinstance(exc, web.HTTPMethodNotAllowed):
        params = {"method": exc.method, "allowed": ", ".join(sorted(exc.allowed_methods))}
    elif isinstance(exc, web.HTTPRequestEntityTooLarge):
        params = {"limit": request.app.get(REQUEST_LIMIT_KEY, "")}
    elif exc.status == 415:
        params = {"expected": "application/json"}
    headers = {k: v for k, v in exc.headers.items() if k.lower() in ("allow", "www-authenticate")}
    return error_response(exc.status, code, i18n.message(key, lang, **params), headers=headers)


REQUEST_LIMIT_KEY = web.AppKey("json_max_size", int)


@web.middleware
async def error_middleware(request: web.Request, handler):
    try:
        return await handler(request)
    except ApiError as exc:
        lang = language_of(request)
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        if exc.status == 401 and exc.key == "auth_invalid":
            headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
        return error_response(exc.status, exc.code, exc.message(lang), exc.details, headers)
    except RemoteError as exc:
        if exc.exc_path in STORE_UNAVAILABLE_PATHS:
            return _unavailable(request, ServiceUnavailable(exc.service, f"store unreachable ({exc.exc_type})"))
        mapped = domain_error(exc, language_of(request))
        if mapped is None:
            log.error(
                "remote error",
                # Not exc.value: it may quote personal data; the service logs its own trace.
                extra={"exc_type": exc.exc_type, "exc_path": exc.exc_path,
                       "service": exc.service, "method": exc.method},
            )
            return _internal(request)
        status, code, message, details = mapped
        return error_response(status, code, message, details)
    except ServiceUnavailable as exc:
        return _unavailable(request, exc)
    except ServiceTimeout as exc:
        log.warning("service timeout", extra={"service": exc.service, "method": exc.method})
        return error_response(
            504, "service_timeout",
            i18n.message("service_timeout", language_of(request), service=exc.service,
                         timeout=f"{exc.timeout:g}"),
        )
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return _from_http_exception(exc, request)
    except Exception:
        log.exception("unhandled error", extra={"path": request.path, "method": request.method})
        return _internal(request)


def _unavailable(request: web.Request, exc: ServiceUnavailable) -> web.Response:
    log.warning("service unavailable", extra={"service": exc.service, "reason": exc.reason})
    return error_response(
        503, "service_unavailable",
        i18n.message("service_unavailable", language_of(request), service=exc.service),
        headers={"Retry-After": "1"},
    )


def _internal(request: web.Request) -> web.Response:
    return error_response(
        500, "internal_error", i18n.message("internal_error", language_of(request))
    )
