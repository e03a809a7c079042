"""Personal data (GDPR): export, erasure, retention periods and the audit log.

Each service owns its data, so export and erasure fan out to the
services' ``export_person`` / ``erase_person`` RPCs, plus the gateway's own
tables and Redis keys (docs/architecture.md "Personal data"). Erasure asks
booking first: it deletes the person from the directory, so no service
can copy their name again afterwards; booking then publishes
``person.erased``, on which presence and notify erase again (harmless),
so a fan-out cut short still converges.

An administrator's export or erasure of someone, and every erasure, goes
into the audit log; the middleware in ``audit.py`` records the rest.
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from datetime import datetime, timezone

import redis.asyncio as aioredis
from aiohttp import web
from pydantic import Field

from .. import audit
from ..adapters.audit_store import AuditStore
from ..adapters.personal_data import PersonRecords, scrub_redis
from ..errors import ApiError
from ..keys import PERSON_CACHE_KEY, PRESENCE_READ_KEY, RPC_KEY, SETTINGS_KEY
from ..openapi import Call
from ..policy import Action
from ..rpc import RemoteError
from ..schemas import Body, Out, Query
from ..webhooks import BotSettings
from . import api
from .common import ok, service_rpc

log = logging.getLogger(__name__)

TAG = "personal data"
RECORDS_KEY = web.AppKey("person_records", PersonRecords)
_REDIS_KEY = web.AppKey("privacy_redis", aioredis.Redis)
_PREFIX_KEY = web.AppKey("gateway_redis_prefix", str)
NIGHTLY_CHECK_SECONDS = 600
EXPORT_FORMAT = "escale-personal-data/1"


class Export(Out):
    format: str
    exported_at: str
    person_id: str
    booking: dict = Field(description="directory entry with contacts and teams, bookings with "
                                      "statuses, recurring series")
    presence: dict = Field(description="privacy choice, day plans, weekly pattern, temporary "
                                       "status, today's booking facts")
    notify: dict = Field(description="notification preferences, chat accounts, messages sent, "
                                     "reminders waiting")
    gateway: dict = Field(description="API tokens, sessions and calendar feeds (metadata, never a "
                                      "secret), audit entries by or about the person")


class ErasureBody(Body):
    confirm_person_id: uuid.UUID = Field(description="your own person id (GET /me), as a "
                                                     "confirmation: erasure cannot be undone")


class Erasure(Out):
    person_id: str
    booking: dict
    presence: dict
    notify: dict
    gateway: dict


class AuditQuery(Query):
    actor: uuid.UUID | None = Field(None, description="the actor's person id or token id")
    person: uuid.UUID | None = Field(None, description="entries by or about this person")
    action: str | None = Field(None, pattern=r"^[a-z_.]{1,64}$", description="a policy action, "
                               "e.g. rules.manage, personal_data.manage")
    since: datetime | None = None
    after: int | None = Field(None, ge=1, le=2**63 - 1, description="the `next` of the previous page")
    limit: int = Field(100, ge=1, le=500)


class AuditItem(Out):
    id: str
    at: str
    actor_token_id: str | None
    actor_person_id: str | None
    actor_role: str
    action: str
    operation: str
    method: str
    target: str | None
    target_person_id: str | None
    status: int


class AuditPage(Out):
    items: list[AuditItem]
    next: str | None


class Retention(Out):
    organisation_id: str
    code: str
    name: str
    bookings_months: int
    notification_log_days: int
    audit_log_months: int
    event_log_days: int
    updated_at: str | None


class RetentionBody(Body):
    """Only the fields sent change."""

    bookings_months: int | None = Field(None, ge=1, le=120)
    notification_log_days: int | None = Field(None, ge=1, le=3650)
    audit_log_months: int | None = Field(None, ge=1, le=120)
    event_log_days: int | None = Field(None, ge=1, le=365)


class RetentionRun(Out):
    booking: dict
    notify: dict
    gateway: dict
    presence: dict


# --- resources ------------------------------------------------------------------------------


async def privacy_context(app: web.Application):
    """cleanup_ctx: the audit store, the gateway's person records, Redis, the nightly job."""
    store = AuditStore(app[SETTINGS_KEY].database_url)
    await store.open()
    app[audit.AUDIT_KEY] = store
    app[RECORDS_KEY] = PersonRecords(store._pool)
    app[_REDIS_KEY] = aioredis.from_url(app[SETTINGS_KEY].redis_url, socket_timeout=3,
                                        socket_connect_timeout=3)
    app[_PREFIX_KEY] = BotSettings.from_env().redis_prefix
    hour = int(os.environ.get("ESCALE_RETENTION_HOUR", "3"))
    task = asyncio.create_task(_nightly(app, hour), name="retention-nightly")
    yield
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    await app[_REDIS_KEY].aclose()
    await store.close()


async def _nightly(app: web.Application, hour: int) -> None:
    while True:
        await asyncio.sleep(NIGHTLY_CHECK_SECONDS)
        now = datetime.now(timezone.utc)
        try:
            if now.hour >= hour and await app[audit.AUDIT_KEY].claim_run("gateway", now.date()):
                result = await _gateway_retention(app)
                log.info("retention job done", extra=result)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - try again at the next check
            log.warning("retention job postponed", extra={"error": type(exc).__name__})


async def _gateway_retention(app: web.Application) -> dict:
    cutoffs = await app[RPC_KEY].call("booking", "retention_cutoffs")
    cutoff = datetime.fromisoformat(cutoffs["audit_log"])
    return {"audit_log": await app[audit.AUDIT_KEY].delete_before(cutoff)}


# --- export and erasure -----------------------------------------------------------------------


def _own(call: Call) -> uuid.UUID:
    if call.actor.person_id is None:
        raise ApiError("invalid", "personal_data_no_person", details={"field": "person_id"})
    return call.actor.person_id


async def _rpc(call: Call, service: str, method: str, **kwargs):
    return await service_rpc(call.request, service, method, actor=call.actor.for_rpc(), **kwargs)


async def _export(call: Call, pid: uuid.UUID) -> dict:
    booking, presence, notify = await asyncio.gather(
        _rpc(call, "booking", "export_person", person_id=str(pid)),
        _rpc(call, "presence", "export_person", person_id=str(pid)),
        _rpc(call, "notify", "export_person", person_id=str(pid)))
    entry = booking.get("directory_entry") or {}
    email = entry.get("email") or (call.actor.email if pid == call.actor.person_id else None)
    gateway = await call.request.app[RECORDS_KEY].export(pid, email)
    gateway["audit_log"] = await call.request.app[audit.AUDIT_KEY].entries(person=pid, limit=10000)
    return {"format": EXPORT_FORMAT, "exported_at": datetime.now(timezone.utc).isoformat(),
            "person_id": str(pid), "booking": booking, "presence": presence, "notify": notify,
            "gateway": gateway}


async def _email_of(call: Call, pid: uuid.UUID) -> str | None:
    try:
        person = await service_rpc(call.request, "booking", "get_person", person_id=str(pid))
    except RemoteError as exc:
        if isinstance(exc.exc_args, list) and exc.exc_args and exc.exc_args[0] == "not_found":
            return None  # already erased: what is left is found by id
        raise
    return person.get("email")


async def _erase(call: Call, pid: uuid.UUID) -> dict:
    app = call.request.app
    email = await _email_of(call, pid)
    if email is None and pid == call.actor.person_id:
        email = call.actor.email
    # Booking first: once the directory forgets the person, nobody copies them again.
    booking = await _rpc(call, "booking", "erase_person", person_id=str(pid))
    presence, notify = await asyncio.gather(
        _rpc(call, "presence", "erase_person", person_id=str(pid)),
        _rpc(call, "notify", "erase_person", person_id=str(pid)))
    records = await app[RECORDS_KEY].erase(pid, email)
    keys = await scrub_redis(app[_REDIS_KEY], app[_PREFIX_KEY], [str(pid), email or "", *records["tokens"]])
    cache = app[PERSON_CACHE_KEY]
    for token_id in [t for t, v in cache.items() if isinstance(v, tuple) and v[1] == pid]:
        cache.pop(token_id, None)
    app[PRESENCE_READ_KEY].forget(str(pid))
    await audit.record(call.request, Action.ERASE_OWN_DATA if pid == call.actor.person_id
                       else Action.MANAGE_PERSONAL_DATA, target_person_id=pid,
                       target=f"person_id={pid}")
    return {"person_id": str(pid), "booking": booking, "presence": presence, "notify": notify,
            "gateway": {"tokens_deleted": len(records["tokens"]), "feeds_deleted": records["feeds"],
                        "redis_keys_deleted": keys}}


@api.get("/me/export", summary="Download everything Escale holds about me (GDPR)", tag=TAG,
         action=Action.EXPORT_OWN_DATA, response=Export, errors=(422,),
         description="JSON: my directory entry and contacts, bookings, plans, statuses, "
                     "preferences, messages, chat accounts, tokens and feeds (never a secret), "
                     "and audit entries about me. Nothing about other people.")
async def export_mine(call: Call):
    return ok(await _export(call, _own(call)),
              headers={"Content-Disposition": 'attachment; filename="escale-my-data.json"'})


@api.post("/me/erasure", summary="Erase what Escale holds about me (GDPR)", tag=TAG,
          action=Action.ERASE_OWN_DATA, body=ErasureBody, response=Erasure, errors=(422,),
          description="Future bookings are cancelled, past ones kept for occupancy statistics "
                      "without anything naming me; plans, statuses, preferences, messages, "
                      "tokens and my directory entry are deleted. Cannot be undone.")
async def erase_mine(call: Call):
    pid = _own(call)
    if call.body.confirm_person_id != pid:
        raise ApiError("invalid", "invalid_field", details={"field": "confirm_person_id"},
                       field="confirm_person_id")
    return ok(await _erase(call, pid))


@api.get("/admin/people/{person_id}/export", summary="Export a person's data (admin, audited)",
         tag=TAG, action=Action.MANAGE_PERSONAL_DATA, response=Export)
async def export_person(call: Call):
    pid = call.path["person_id"]
    result = await _export(call, pid)
    await audit.record(call.request, Action.MANAGE_PERSONAL_DATA, target_person_id=pid,
                       target=f"person_id={pid}")
    return ok(result)


@api.post("/admin/people/{person_id}/erasure", summary="Erase a person's data (admin, audited)",
          tag=TAG, action=Action.MANAGE_PERSONAL_DATA, response=Erasure)
async def erase_person(call: Call):
    return ok(await _erase(call, call.path["person_id"]))


# --- audit log and retention -------------------------------------------------------------------


@api.get("/admin/audit", summary="The audit log (admin)", tag=TAG, action=Action.READ_AUDIT,
         query=AuditQuery, response=AuditPage,
         description="Administrative actions and access to other people's data, newest first: "
                     "who (token, person, role), what (policy action, operation), when, on what "
                     "(ids). `next` pages on.")
async def read_audit(call: Call):
    q: AuditQuery = call.query
    items = await call.request.app[audit.AUDIT_KEY].entries(
        actor=q.actor, action=q.action, since=q.since, person=q.person, after=q.after, limit=q.limit)
    return ok({"items": items, "next": items[-1]["id"] if len(items) == q.limit else None})


@api.get("/admin/retention", summary="How long data is kept, per organisation (admin)", tag=TAG,
         action=Action.MANAGE_RETENTION, response=list[Retention])
async def get_retention(call: Call):
    return ok(await call.rpc("get_retention"))


@api.patch("/admin/retention/{organisation_id}", summary="Change retention periods (admin)",
           tag=TAG, action=Action.MANAGE_RETENTION, body=RetentionBody, response=Retention,
           errors=(404,))
async def set_retention(call: Call):
    data = call.body.model_dump(exclude_none=True)
    return ok(await call.rpc("set_retention", actor=call.actor.for_rpc(),
                             organisation_id=str(call.path["organisation_id"]), retention=data))


@api.post("/admin/retention/run", summary="Run the retention job now (admin)", tag=TAG,
          action=Action.MANAGE_RETENTION, response=RetentionRun,
          description="What the nightly jobs do, at once: delete bookings and logs past their "
                      "time. Presence keeps nothing past the day and purges it every night.")
async def run_retention(call: Call):
    booking, notify = await asyncio.gather(
        _rpc(call, "booking", "run_retention"), _rpc(call, "notify", "run_retention"))
    gateway = await _gateway_retention(call.request.app)
    return ok({"booking": booking, "notify": notify, "gateway": gateway,
               "presence": {"ran": False, "reason": "nothing kept past the day"}})
