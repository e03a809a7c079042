"""The audit log: administrative actions and access to other people's data.

One middleware looks at every API operation that succeeded and asks
:func:`judge` whether it is worth an entry, from the operation's policy
action alone:

* an **administrative action**: a change (not GET) whose action is outside
  what an agent may do (catalogue, rules, imports, devices, tokens,
  notification settings, retention...);
* **access to another person's data**: an administrator's (or site
  administrator's) request names a person (``person_id`` in the path, query
  or JSON body) other than the caller, for an action on personal records
  (bookings, plans, preferences...); agents see only what the services
  show anyone of a colleague, so their requests are not logged;
  looking people up and reading presence, which every agent does and which
  the person's privacy choice governs, are not logged (a log of who looked
  for whom would itself be a record of staff activity).

Routes with more to say (an export, an erasure) call :func:`record`
themselves and the middleware then stays silent. Entries hold ids only.
"""

from __future__ import annotations

import json
import logging
import typing
import uuid

from aiohttp import web

from .adapters.audit_store import AuditEntry, AuditStore
from .keys import ACTOR_KEY
from .policy import ALLOWED, Action, Actor, Role

log = logging.getLogger(__name__)

AUDIT_KEY = web.AppKey("audit", AuditStore)
_AUDITED = web.RequestKey("audited", bool)

AGENT_ACTIONS = ALLOWED[Role.AGENT] | {Action.DISPLAY}
# Reads every agent makes about colleagues; governed by their privacy choice.
NOT_PERSONAL_RECORDS = frozenset({
    Action.READ_ME, Action.READ_CATALOG, Action.READ_AVAILABILITY, Action.READ_PEOPLE,
    Action.READ_PRESENCE, Action.LIVE,
})
PERSON_KEYS = ("person_id", "person")
# Roles that see more of someone's records than other agents do.
PRIVILEGED = frozenset({Role.ADMIN, Role.SITE_ADMIN})


def judge(method: str, action: Action | None, role: Role, actor_person_id: uuid.UUID | None,
          target_person_id: uuid.UUID | None) -> bool:
    """Whether a successful operation goes into the audit log."""
    if action is None:
        return False
    if method != "GET" and action not in AGENT_ACTIONS:
        return True
    return (role in PRIVILEGED and target_person_id is not None
            and target_person_id != actor_person_id and action not in NOT_PERSONAL_RECORDS)


def _uuid(value) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        return None


def _short_literal(kind) -> bool:
    return typing.get_origin(kind) is typing.Literal


def target_of(operation, match_info: dict) -> str | None:
    """The entity in the path, as ``name=value`` pairs of ids and fixed words
    only (a path may also carry free text, such as a chat account: left out)."""
    parts = []
    for name in operation.path_params:
        raw = match_info.get(name)
        kind = operation.path_types.get(name, uuid.UUID)
        if kind is uuid.UUID and _uuid(raw) is not None:
            parts.append(f"{name}={_uuid(raw)}")
        elif _short_literal(kind) and raw is not None:
            parts.append(f"{name}={raw}")
    return ";".join(parts)[:300] or None


async def _target_person(request: web.Request) -> uuid.UUID | None:
    for key in PERSON_KEYS:
        for source in (request.match_info, request.query):
            if key in source and _uuid(source[key]) is not None:
                return _uuid(source[key])
    if request.body_exists and request.content_type == "application/json":
        try:
            body = json.loads(await request.read())
        except (ValueError, UnicodeDecodeError):
            return None
        if isinstance(body, dict):
            for key in PERSON_KEYS:
                if _uuid(body.get(key)) is not None:
                    return _uuid(body.get(key))
    return None


async def record(request: web.Request, action: Action | str, *, status: int = 200,
                 target: str | None = None, target_person_id: uuid.UUID | None = None) -> None:
    """Write one entry for this request now (and keep the middleware from adding another)."""
    actor: Actor = request[ACTOR_KEY]
    operation = getattr(request.match_info.handler, "operation", None)
    await request.app[AUDIT_KEY].record(AuditEntry(
        actor_token_id=actor.token_id, actor_person_id=actor.person_id,
        actor_role=actor.role.value, action=Action(action).value,
        operation=operation.operation_id if operation else "unknown", method=request.method,
        target=target, target_person_id=target_person_id, status=status))
    request[_AUDITED] = True


@web.middleware
async def audit_middleware(request: web.Request, handler):
    response = await handler(request)
    operation = getattr(request.match_info.handler, "operation", None)
    actor = request.get(ACTOR_KEY)
    if operation is None or actor is None or response.status >= 400 or request.get(_AUDITED):
        return response
    action = operation.action
    if action is None or (action in NOT_PERSONAL_RECORDS and request.method == "GET"):
        return response  # the common reads: nothing to look for
    try:
        person = await _target_person(request)
        if judge(request.method, action, actor.role, actor.person_id, person):
            await request.app[AUDIT_KEY].record(AuditEntry(
                actor_token_id=actor.token_id, actor_person_id=actor.person_id,
                actor_role=actor.role.value, action=action.value,
                operation=operation.operation_id, method=request.method,
                target=target_of(operation, request.match_info), target_person_id=person,
                status=response.status))
    except Exception:  # noqa: BLE001 - the change is done; say loudly that its trace is missing
        log.exception("audit entry not written", extra={"operation": operation.operation_id})
    return response
