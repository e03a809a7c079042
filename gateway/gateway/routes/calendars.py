"""Calendar sync administration: a site's calendar server, which calendar
mirrors which room, whose calendar tells their busy times, and "sync now".

Credentials never travel through the API: a connection names a
``credentials_ref`` and the booking service reads
``ESCALE_CALENDAR_<REF>_USERNAME`` / ``_PASSWORD`` / ... from its own
environment. Admins, or site admins of the site concerned.
"""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from aiohttp import web
from pydantic import Field

from ..openapi import Call
from ..policy import Action, Role
from ..schemas import Body, Out
from . import api
from .common import ok, service_rpc

TAG = "calendars"
SYNC_TIMEOUT = 300.0  # a manual round over many rooms outlasts the usual RPC timeout


class CalendarConnection(Body):
    backend: Literal["caldav", "ews", "graph", "none"]
    url: str | None = Field(None, max_length=2000, description="The server's address (http or https)")
    credentials_ref: str | None = Field(
        None, pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="Name of the credentials in the booking service's environment "
                    "(ESCALE_CALENDAR_<REF>_USERNAME, _PASSWORD, _TENANT_ID, _CLIENT_ID, _CLIENT_SECRET, _TOKEN)")
    options: dict = Field(default_factory=dict, description="Backend settings that are not secrets")
    dry_run: bool = Field(False, description="Read the calendars but never write to them")
    enabled: bool = True
    interval_seconds: int = Field(60, ge=5, le=86400, description="How often the site is synced")
    fallback_person_id: UUID | None = Field(
        None, description="Owner of meetings whose organiser Escale does not know (none: no owner)")


class RoomCalendar(Body):
    calendar_ref: str = Field(min_length=1, max_length=1000,
                              description="CalDAV collection path or URL, room mailbox address (EWS, Graph)")


class PersonCalendar(Body):
    site_id: UUID = Field(description="The site whose connection reads this calendar")
    calendar_ref: str = Field(min_length=1, max_length=1000)


class SyncRun(Out):
    id: int
    site_id: UUID
    trigger: str
    status: str = Field(description="running, ok, partial (some rooms failed) or failed")
    calls: int = Field(description="Requests made to the calendar server")
    counts: dict


class CalendarSettings(Out):
    site_id: UUID
    connection: dict | None
    rooms: list[dict]
    people: list[dict]
    runs: list[SyncRun]


async def _site_admin_check(call: Call, site_id) -> None:
    call.check(Action.MANAGE_CALENDARS, str(site_id))


async def _resource_site(call: Call) -> str | None:
    if call.actor.role is not Role.SITE_ADMIN:
        return None
    resource = await call.catalog("get_resource", resource_id=str(call.path["id"]))
    return resource.get("site_id") if isinstance(resource, dict) else None


@api.get("/admin/sites/{id}/calendar", summary="A site's calendar connection, mappings and last runs",
         tag=TAG, action=Action.MANAGE_CALENDARS, response=CalendarSettings, errors=(404,))
async def get_calendar(call: Call):
    await _site_admin_check(call, call.path["id"])
    return ok(await call.rpc("calendar_settings", actor=call.actor.for_rpc(), site_id=str(call.path["id"])))


@api.put("/admin/sites/{id}/calendar", summary="Connect a site to its calendar server",
         tag=TAG, action=Action.MANAGE_CALENDARS, body=CalendarConnection, response=Out, errors=(404, 422))
async def put_calendar(call: Call):
    await _site_admin_check(call, call.path["id"])
    return ok(await call.rpc("set_calendar_connection", actor=call.actor.for_rpc(), site_id=str(call.path["id"]),
                             connection=call.body.model_dump(mode="json")))


@api.delete("/admin/sites/{id}/calendar", summary="Disconnect a site (mappings and links go too)",
            tag=TAG, action=Action.MANAGE_CALENDARS, status=204, errors=(404,))
async def delete_calendar(call: Call):
    await _site_admin_check(call, call.path["id"])
    await call.rpc("delete_calendar_connection", actor=call.actor.for_rpc(), site_id=str(call.path["id"]))
    return web.Response(status=204)


@api.post("/admin/sites/{id}/calendar/sync", summary="Sync the site's calendars now; answers the run",
          tag=TAG, action=Action.MANAGE_CALENDARS, response=SyncRun, errors=(404, 409))
async def sync_calendar(call: Call):
    await _site_admin_check(call, call.path["id"])
    run = await service_rpc(call.request, "booking", "sync_now", timeout=SYNC_TIMEOUT,
                            actor=call.actor.for_rpc(), site_id=str(call.path["id"]))
    return ok(run)


@api.get("/admin/sites/{id}/calendar/runs", summary="The site's last sync runs", tag=TAG,
         action=Action.MANAGE_CALENDARS, response=list[SyncRun], errors=(404,))
async def calendar_runs(call: Call):
    await _site_admin_check(call, call.path["id"])
    return ok(await call.rpc("calendar_runs", actor=call.actor.for_rpc(), site_id=str(call.path["id"])))


@api.put("/admin/rooms/{id}/calendar", summary="Mirror a room in a remote calendar", tag=TAG,
         action=Action.MANAGE_CALENDARS, body=RoomCalendar, response=Out, errors=(404, 409, 422))
async def put_room_calendar(call: Call):
    call.check(Action.MANAGE_CALENDARS, await _resource_site(call))
    return ok(await call.rpc("map_room_calendar", actor=call.actor.for_rpc(), resource_id=str(call.path["id"]),
                             calendar_ref=call.body.calendar_ref))


@api.delete("/admin/rooms/{id}/calendar", summary="Stop mirroring a room", tag=TAG,
            action=Action.MANAGE_CALENDARS, status=204, errors=(404,))
async def delete_room_calendar(call: Call):
    call.check(Action.MANAGE_CALENDARS, await _resource_site(call))
    await call.rpc("map_room_calendar", actor=call.actor.for_rpc(), resource_id=str(call.path["id"]),
                   calendar_ref=None)
    return web.Response(status=204)


@api.put("/admin/people/{id}/calendar", summary="Read a person's own calendar for busy times (never titles)",
         tag=TAG, action=Action.MANAGE_CALENDARS, body=PersonCalendar, response=Out, errors=(404, 409, 422))
async def put_person_calendar(call: Call):
    await _site_admin_check(call, call.body.site_id)
    return ok(await call.rpc("map_person_calendar", actor=call.actor.for_rpc(), person_id=str(call.path["id"]),
                             site_id=str(call.body.site_id), calendar_ref=call.body.calendar_ref))


@api.delete("/admin/people/{id}/calendar", summary="Stop reading a person's calendar (admin)", tag=TAG,
            action=Action.MANAGE_CALENDARS, status=204, errors=(404,))
async def delete_person_calendar(call: Call):
    call.check(Action.MANAGE_CALENDARS, None)
    await call.rpc("map_person_calendar", actor=call.actor.for_rpc(), person_id=str(call.path["id"]),
                   calendar_ref=None)
    return web.Response(status=204)
