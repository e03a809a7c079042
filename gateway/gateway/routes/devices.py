"""Door tablets: pairing, the admin's list of devices, and device-scoped reads.

A display (``GET /display``) asks for a pairing code without a token, shows
it, and polls ``/display/pairings/claim`` with its claim secret; an admin
enters the code against a room (``POST /devices/pair``). From then on the
display calls the ``/display/...`` operations with its device token, which
is bound to that one room: the room is taken from the token, never from the
request, so a device cannot read or act on another room.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Literal
from uuid import UUID
from zoneinfo import ZoneInfo

from aiohttp import web
from pydantic import Field

from ..adapters.devices import DeviceStore, PairingUnavailable
from ..errors import ApiError, language_of
from ..i18n import DEFAULT_LANGUAGE, LANGUAGES
from ..keys import SETTINGS_KEY
from ..openapi import Call
from ..policy import Action
from ..schemas import Body, Out
from . import api
from .common import ok

TAG = "devices"
DEVICES_KEY = web.AppKey("devices", DeviceStore)
PAGE_DIR = Path(__file__).resolve().parent.parent / "static" / "display"
PAGE_CSP = ("default-src 'self'; style-src 'self'; script-src 'self'; connect-src 'self'; "
            "img-src 'self' data:; frame-ancestors 'none'")


def install_page(app: web.Application) -> None:
    """The display page, ``GET /display``, and its script and style (no CDN)."""
    page = (PAGE_DIR / "index.html").read_text(encoding="utf-8")
    pages = {lang: page.replace("{lang}", lang) for lang in LANGUAGES}

    async def display_page(request: web.Request) -> web.Response:
        language = language_of(request)
        return web.Response(text=pages[language], content_type="text/html",
                            headers={"Content-Security-Policy": PAGE_CSP,
                                     "Content-Language": language, "Cache-Control": "no-cache"})

    app.router.add_get("/display", display_page, name="display")
    app.router.add_static("/display/", PAGE_DIR, name="display_static")


async def device_store(app: web.Application):
    """cleanup_ctx: the device tables of the gateway database."""
    store = DeviceStore(app[SETTINGS_KEY].database_url)
    app[DEVICES_KEY] = store
    await store.open()
    yield
    await store.close()


class PairingStarted(Out):
    code: str
    claim: str
    expires_at: datetime


class PairingClaim(Body):
    code: str = Field(min_length=6, max_length=12)
    claim: str = Field(min_length=20, max_length=100)


class PairingClaimed(Out):
    status: str
    token: str | None = None


class DevicePair(Body):
    code: str = Field(min_length=6, max_length=12)
    room_id: UUID
    label: str = Field(default="", max_length=200)


class Device(Out):
    id: UUID
    room_id: UUID | None
    label: str
    created_at: datetime
    last_heartbeat_at: datetime | None
    online: bool


class DisplayMeeting(Out):
    id: UUID
    start: datetime
    end: datetime
    status: str
    title: str | None = None
    organiser: str | None = Field(None, description="Who booked it (display name); null for a "
                                                    "walk-in or when the room hides details")
    walk_in: bool = Field(False, description="Booked at the door (book now): nobody owns it")


class DisplayAction(Body):
    booking_id: UUID


class DisplayExtend(Body):
    booking_id: UUID
    minutes: Literal[15, 30, 60]


class DisplayBookNow(Body):
    minutes: Literal[15, 30, 60]


class DisplayRoom(Out):
    room_id: UUID
    name: str
    capacity: int
    time_zone: str
    language: str = Field(description="The display's language: resource attribute `language` "
                                      "(fr or en), French by default")
    private: bool = Field(description="Resource attribute `private`: meetings show neither title "
                                      "nor organiser (the display says « Réservé »)")
    meetings: list[DisplayMeeting]


# --- pairing (the display, without a token) -----------------------------------------


@api.post("/display/pairings", summary="Start pairing a display: a code to show and a claim secret",
          tag=TAG, auth=False, response=PairingStarted, status=201)
async def start_pairing(call: Call):
    try:
        pairing = await call.request.app[DEVICES_KEY].start_pairing()
    except PairingUnavailable:
        raise ApiError("service_unavailable", "pairing_unavailable") from None
    return ok({"code": pairing.code, "claim": pairing.claim,
               "expires_at": pairing.expires_at.isoformat()}, 201)


@api.post("/display/pairings/claim",
          summary="Collect the device token once the code is paired (status waiting until then)",
          tag=TAG, auth=False, body=PairingClaim, response=PairingClaimed, errors=(404,))
async def claim_pairing(call: Call):
    result = await call.request.app[DEVICES_KEY].claim(call.body.code, call.body.claim)
    if result is None:
        raise ApiError("not_found", "pairing_not_found")
    if result is False:
        return ok({"status": "waiting"})
    return ok({"status": "paired", "token": result})


# --- the admin's side -------------------------------------------------------------------


@api.post("/devices/pair", summary="Pair the display showing a code with a room (admin)",
          tag=TAG, action=Action.MANAGE_DEVICES, body=DevicePair, response=Device, status=201,
          errors=(404, 422))
async def pair_device(call: Call):
    body: DevicePair = call.body
    room = await call.catalog("get_resource", resource_id=str(body.room_id))
    if not isinstance(room, dict) or room.get("kind") != "room":
        raise ApiError("invalid", "not_a_room", details={"field": "room_id"})
    device = await call.request.app[DEVICES_KEY].pair(
        body.code, body.room_id, UUID(str(room["site_id"])), body.label or room.get("name", ""))
    if device is None:
        raise ApiError("not_found", "pairing_not_found")
    return ok(device.as_dict(), 201)


@api.get("/devices", summary="Paired displays, their room, last heartbeat and whether online (admin)",
         tag=TAG, action=Action.MANAGE_DEVICES, response=list[Device])
async def list_devices(call: Call):
    return ok([d.as_dict() for d in await call.request.app[DEVICES_KEY].devices()])


@api.delete("/devices/{id}", summary="Revoke a display's token at once (admin)", tag=TAG,
            action=Action.MANAGE_DEVICES, status=204, errors=(404,))
async def revoke_device(call: Call):
    if not await call.request.app[DEVICES_KEY].revoke(call.path["id"]):
        raise ApiError("not_found", "entity_not_found")
    return web.Response(status=204)


# --- the display, with its device token ----------------------------------------------


@api.post("/display/heartbeat", summary="A display says it is alive (every 30 s)", tag=TAG,
          action=Action.DISPLAY, status=204)
async def heartbeat(call: Call):
    await call.request.app[DEVICES_KEY].heartbeat(call.actor.token_id)
    return web.Response(status=204)


@api.get("/display/room", summary="The device's room and today's meetings", tag=TAG,
         action=Action.DISPLAY, response=DisplayRoom)
async def display_room(call: Call):
    room_id = call.actor.room_id
    if room_id is None:
        raise ApiError("forbidden", "device_without_room")
    room = await call.catalog("get_resource", resource_id=str(room_id))
    sites = await call.catalog("list_sites")
    site = next((s for s in sites if str(s.get("id")) == str(room.get("site_id"))), {})
    zone = ZoneInfo(str(site.get("timezone") or "Europe/Paris"))
    today = datetime.now(zone).date()
    start = datetime.combine(today, time(0), zone)
    bookings = await call.rpc("list_bookings", actor=call.actor.for_rpc(),
                              resource_id=str(room_id), start=start.isoformat(),
                              end=(start + timedelta(days=1)).isoformat())
    attributes = room.get("attributes") or {}
    private = attributes.get("private") is True
    meetings = [
        # The booking service tells the room's device the organiser's name (never
        # their id); title and organiser are shown on the door unless the room
        # hides details (resource attribute private). A walk-in has no organiser.
        {"id": b["id"], "start": b["start"], "end": b["end"], "status": b["status"],
         "title": None if private else (b.get("title") or None),
         "organiser": None if private else (b.get("organiser") or None),
         "walk_in": b.get("walk_in") is True}
        for b in bookings if b.get("status") in ("confirmed", "checked_in")
    ]
    language = attributes.get("language")
    return ok({"room_id": str(room_id), "name": room.get("name", ""),
               "capacity": room.get("capacity", 0), "time_zone": str(zone),
               "language": language if language in LANGUAGES else DEFAULT_LANGUAGE,
               "private": private, "meetings": sorted(meetings, key=lambda m: m["start"])})


@api.post("/display/check-in", summary="Check in to a meeting of the device's room (« Je suis là »)",
          tag=TAG, action=Action.DISPLAY, body=DisplayAction, response=DisplayMeeting,
          errors=(404, 409, 422))
async def display_check_in(call: Call):
    # The booking service checks that the booking is in the device's room.
    result = await call.rpc("check_in", actor=call.actor.for_rpc(),
                            booking_id=str(call.body.booking_id))
    return ok(result)


@api.post("/display/end", summary="End the meeting under way in the device's room (the room is free)",
          tag=TAG, action=Action.DISPLAY, body=DisplayAction, response=DisplayMeeting,
          errors=(404, 409))
async def display_end(call: Call):
    result = await call.rpc("end_booking", actor=call.actor.for_rpc(),
                            booking_id=str(call.body.booking_id))
    return ok(result)


@api.post("/display/extend",
          summary="Extend the meeting under way by 15, 30 or 60 minutes when the room stays free",
          tag=TAG, action=Action.DISPLAY, body=DisplayExtend, response=DisplayMeeting,
          errors=(404, 409, 422))
async def display_extend(call: Call):
    result = await call.rpc("extend_booking", actor=call.actor.for_rpc(),
                            booking_id=str(call.body.booking_id), minutes=call.body.minutes)
    return ok(result)


@api.post("/display/book-now",
          summary="Book the device's room from now for 15, 30 or 60 minutes (a walk-in, no owner)",
          tag=TAG, action=Action.DISPLAY, body=DisplayBookNow, response=DisplayMeeting, status=201,
          errors=(403, 409, 422))
async def display_book_now(call: Call):
    # The room is the token's: the body names no room and no person (unknown fields are refused).
    result = await call.rpc("book_now", actor=call.actor.for_rpc(), minutes=call.body.minutes)
    return ok(result, 201)
