"""The route registry and the OpenAPI 3.1 document built from it.

Each API operation is declared once, with its method, path, summary, the
models of its query, body and response, the policy action it needs and
whether it is authenticated. From that one declaration:

* the route is added to the aiohttp router,
* the request is parsed and validated before the handler runs (path ids,
  query, JSON or CSV body), and the policy's role check applied,
* the OpenAPI document served at ``/api/v1/openapi.json`` is generated.

So a route cannot exist without being documented, and the document cannot
drift from what the code validates.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
import types
from typing import Any, Awaitable, Callable, Union, get_args, get_origin

from aiohttp import web
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.json_schema import models_json_schema

from . import i18n, policy, schemas
from .errors import ApiError, language_of
from .keys import ACTOR_KEY, CATALOG_KEY, RPC_KEY, SETTINGS_KEY
from .policy import Action, Actor
from .rpc import RemoteError
from .validation import as_api_error

PREFIX = "/api/v1"
CSV = "text/csv"  # marker: the body is a CSV file, not JSON
IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")
_CSV_TYPES = ("text/csv", "text/plain", "application/csv", "application/vnd.ms-excel")

Handler = Callable[["Call"], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Operation:
    method: str
    path: str                         # below /api/v1, e.g. /bookings/{id}
    handler: Handler
    summary: str
    tag: str
    action: Action | None = None      # None: no policy check (public or any actor)
    auth: bool = True
    query: type[BaseModel] | None = None
    body: type[BaseModel] | str | None = None
    response: Any = None              # model, list[model], or None (no body)
    status: int = 200
    path_types: dict[str, Any] = field(default_factory=dict)
    errors: tuple[int, ...] = ()
    headers: tuple[str, ...] = ()     # documented request headers (Idempotency-Key)
    description: str = ""

    @property
    def operation_id(self) -> str:
        return self.handler.__name__

    @property
    def path_params(self) -> list[str]:
        return re.findall(r"{(\w+)}", self.path)


@dataclass
class Call:
    """What a handler gets: the request, its actor and its validated input."""

    request: web.Request
    operation: Operation
    path: dict[str, Any]
    query: Any = None
    body: Any = None

    @property
    def actor(self) -> Actor:
        return self.request[ACTOR_KEY]

    @property
    def language(self) -> str:
        return language_of(self.request)

    async def rpc(self, method: str, **kwargs: Any) -> Any:
        """``booking.<method>(**kwargs)``, with the caller's language as context."""
        return await self.request.app[RPC_KEY].call(
            "booking", method, context={"language": self.language}, **kwargs
        )

    async def catalog(self, method: str, **kwargs: Any) -> Any:
        """A catalogue read, from the gateway's cache when possible.

        The cache asks the service once for every caller (in the default
        language); a refusal for a caller of another language is asked again
        in theirs, so its message reads right. Refusals are rare and never cached.
        """
        try:
            return await self.request.app[CATALOG_KEY].call(method, **kwargs)
        except RemoteError:
            if self.language == i18n.DEFAULT_LANGUAGE:
                raise
            return await self.rpc(method, **kwargs)

    def check(self, action: Action, site_id=None) -> None:
        try:
            policy.check(self.actor, action, site_id)
        except policy.Denied as denied:
            raise ApiError("forbidden", denied.reason, role=self.actor.role.value) from None


class Registry:
    def __init__(self) -> None:
        self.operations: list[Operation] = []

    def route(self, method: str, path: str, **options: Any) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.operations.append(Operation(method=method, path=path, handler=handler, **options))
            return handler
        return register

    def get(self, path: str, **options):
        return self.route("GET", path, **options)

    def post(self, path: str, **options):
        return self.route("POST", path, **options)

    def put(self, path: str, **options):
        return self.route("PUT", path, **options)

    def patch(self, path: str, **options):
        return self.route("PATCH", path, **options)

    def delete(self, path: str, **options):
        return self.route("DELETE", path, **options)

    def install(self, app: web.Application) -> None:
        for op in self.operations:
            app.router.add_route(op.method, PREFIX + op.path, _endpoint(op),
                                 name=op.operation_id)


# --- request parsing ------------------------------------------------------------------


def _endpoint(op: Operation):
    async def endpoint(request: web.Request) -> web.StreamResponse:
        language = language_of(request)
        if op.auth and op.action is not None:
            try:
                policy.check(request[ACTOR_KEY], op.action)
            except policy.Denied as denied:
                raise ApiError("forbidden", denied.reason,
                               role=request[ACTOR_KEY].role.value) from None
        path = _path_values(op, request)
        query = None
        if op.query is not None:
            try:
                query = op.query.model_validate(_query_dict(request))
            except ValidationError as exc:
                raise as_api_error(exc, language) from None
        body = None
        if op.body is CSV:
            body = await _csv_body(request)
        elif op.body is not None:
            body = await _json_body(request, op.body, language)
        return await op.handler(Call(request, op, path, query, body))

    endpoint.operation = op
    endpoint.__name__ = op.operation_id
    return endpoint


def _path_values(op: Operation, request: web.Request) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in op.path_params:
        raw = request.match_info[name]
        kind = op.path_types.get(name, uuid.UUID)
        if kind is uuid.UUID:
            try:
                values[name] = uuid.UUID(raw)
            except ValueError:
                # Not an id at all: nothing can live there (same answer as an unknown id).
                raise ApiError("not_found", "entity_not_found") from None
        else:
            try:
                values[name] = TypeAdapter(kind).validate_python(raw)
            except ValidationError:
                raise ApiError("not_found", "route_not_found") from None
    return values


def _query_dict(request: web.Request) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key in request.query.keys():
        values = request.query.getall(key)
        # A repeated parameter is an error unless the model takes a list.
        data[key] = values[0] if len(values) == 1 else values
    return data


async def _json_body(request: web.Request, model: type[BaseModel], language: str):
    limit = request.app[SETTINGS_KEY].json_max_size
    if request.content_length is not None and request.content_length > limit:
        raise ApiError("too_large", "too_large", limit=limit)
    raw = await request.read()  # aiohttp enforces client_max_size: 413
    try:
        parsed = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ApiError("invalid_json", "invalid_json") from None
    if not isinstance(parsed, dict):
        raise ApiError("invalid_json", "invalid_json")
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise as_api_error(exc, language) from None


async def _csv_body(request: web.Request) -> str:
    limit = request.app[SETTINGS_KEY].csv_max_size
    content_type = request.content_type.lower()
    if content_type not in _CSV_TYPES:
        raise ApiError("unsupported_media_type", "unsupported_media_type", expected="text/csv")
    if request.content_length is not None and request.content_length > limit:
        raise ApiError("too_large", "too_large", limit=limit)
    chunks, size = [], 0
    # Read the stream ourselves: the app's client_max_size is the JSON limit.
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise ApiError("too_large", "too_large", limit=limit)
        chunks.append(chunk)
    try:
        text = b"".join(chunks).decode(request.charset or "utf-8")
    except (UnicodeDecodeError, LookupError):
        raise ApiError("invalid", "not_utf8", details={"field": "body"}) from None
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise ApiError("invalid", "csv_empty", details={"field": "body"})
    return text


# --- the OpenAPI document ----------------------------------------------------------------

ERROR_TEXT = {
    400: "Malformed request (body not a JSON object)",
    401: "Missing, unknown, revoked or expired token",
    403: "The caller's role or sites do not allow this",
    404: "No such thing",
    409: "Conflicts with the current state (details in `conflict`)",
    413: "Body too large",
    415: "Unsupported content type",
    422: "Invalid input (the offending `field` is named)",
    429: "Too many requests from this credential or address (see `Retry-After`)",
    503: "A service is not running or unreachable",
    504: "A service did not answer in time",
}


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in _models_in(arg)]


def _schema_of(annotation: Any) -> dict:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return {"$ref": f"#/components/schemas/{annotation.__name__}"}
    if get_origin(annotation) is list:
        (item,) = get_args(annotation)
        return {"type": "array", "items": _schema_of(item)}
    if get_origin(annotation) in (Union, types.UnionType):
        return {"oneOf": [_schema_of(a) for a in get_args(annotation)]}
    raise TypeError(f"cannot describe {annotation!r}")


def build_document(registry: Registry, *, title: str = "Escale API",
                   version: str = "1.0.0") -> dict:
    models: set[type[BaseModel]] = {schemas.Error}
    for op in registry.operations:
        if isinstance(op.body, type):
            models.add(op.body)
        models.update(_models_in(op.response))
    ordered = sorted(models, key=lambda m: m.__name__)
    _, defs = models_json_schema(
        [(m, "validation" if issubclass(m, schemas.Body) else "serialization") for m in ordered],
        ref_template="#/components/schemas/{model}",
    )
    components = defs.get("$defs", {})

    paths: dict[str, dict] = {}
    for op in registry.operations:
        item = paths.setdefault(op.path, {})
        parameters = []
        for name in op.path_params:
            kind = op.path_types.get(name, uuid.UUID)
            schema = ({"type": "string", "format": "uuid"} if kind is uuid.UUID
                      else TypeAdapter(kind).json_schema())
            parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
        if op.query is not None:
            qschema = op.query.model_json_schema(by_alias=True,
                                                 ref_template="#/components/schemas/{model}")
            required = set(qschema.get("required", []))
            for name, prop in qschema.get("properties", {}).items():
                description = prop.pop("description", None)
                param = {"name": name, "in": "query", "required": name in required,
                         "schema": prop}
                if description:
                    param["description"] = description
                parameters.append(param)
        for header in op.headers:
            parameters.append({
                "name": header, "in": "header", "required": False,
                "schema": {"type": "string", "minLength": 1, "maxLength": 200},
                "description": "a retried request with the same key books once",
            })
        operation: dict[str, Any] = {
            "operationId": op.operation_id,
            "summary": op.summary,
            "tags": [op.tag],
        }
        if op.description:
            operation["description"] = op.description
        if parameters:
            operation["parameters"] = parameters
        if op.body is CSV:
            operation["requestBody"] = {"required": True, "content": {
                "text/csv": {"schema": {"type": "string"}}}}
        elif op.body is not None:
            operation["requestBody"] = {"required": True, "content": {
                "application/json": {"schema": _schema_of(op.body)}}}
        responses: dict[str, Any] = {}
        if op.response is None:
            responses[str(op.status)] = {"description": "Done"}
        else:
            responses[str(op.status)] = {"description": "Success", "content": {
                "application/json": {"schema": _schema_of(op.response)}}}
        codes = set(op.errors) | {429}  # every API request counts against the rate limits
        if op.auth:
            codes |= {401}
            if op.action is not None:
                codes |= {403}
            codes |= {503, 504}
        if op.path_params:
            codes |= {404}
        if op.query is not None or op.body is not None:
            codes |= {422}
        if op.body is not None:
            codes |= {400, 413} if op.body is not CSV else {413, 415}
        for code in sorted(codes):
            responses[str(code)] = {"description": ERROR_TEXT[code], "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        operation["responses"] = responses
        if op.auth:
            operation["security"] = [{"bearer": []}, {"session": []}]
        else:
            operation["security"] = []
        item[op.method.lower()] = operation

    return {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": version,
            "description": (
                "Escale flex-office booking API. Authenticate with "
                "`Authorization: Bearer esc_...` (`escale token create`), or, from the "
                "web app, with the `escale_session` cookie set at sign-in (`/auth/login`); "
                "state-changing requests made with the cookie carry `X-CSRF-Token` "
                "(the `escale_csrf` cookie, or `csrf_token` of `GET /me`). Errors are "
                '`{"error": code, "message": ..., ...details}`; messages follow '
                "`Accept-Language` (French by default, English)."
            ),
        },
        "servers": [{"url": PREFIX}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "esc_<43 characters>"},
                "session": {"type": "apiKey", "in": "cookie", "name": "escale_session"},
            },
        },
        "security": [{"bearer": []}, {"session": []}],
        "tags": _unique_tags(registry),
    }


def _unique_tags(registry: Registry) -> list[dict]:
    seen: list[str] = []
    for op in registry.operations:
        if op.tag not in seen:
            seen.append(op.tag)
    return [{"name": t} for t in seen]
