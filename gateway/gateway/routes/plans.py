"""Floor plans: an administrator uploads a floor's plan image (SVG or PNG);
everyone signed in reads it, and its size, to draw desks on it.

The image is kept in the gateway database (``adapters/floor_plans.py``);
its size is also written to the floor in the booking service
(``plan_width``/``plan_height``), since desks' ``x``, ``y`` are in its units.
Plans are served with a sandboxing Content-Security-Policy and ``nosniff``:
even opened on its own, an SVG plan cannot run anything.
"""

from __future__ import annotations

import uuid

from aiohttp import web

from ..adapters.floor_plans import FloorPlanStore
from ..errors import ApiError
from ..floor_plans import MAX_BYTES, PNG, SVG, BadPlan, measure
from ..keys import CATALOG_KEY, SETTINGS_KEY
from ..openapi import Call
from ..policy import Action, Role
from ..schemas import Out
from . import api
from .common import ok

TAG = "administration"
PLANS_KEY = web.AppKey("floor_plans", FloorPlanStore)
PLAN_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"


class FloorPlan(Out):
    floor_id: uuid.UUID
    content_type: str
    width: float
    height: float
    sha256: str
    updated_at: str


async def plan_store(app: web.Application):
    """cleanup_ctx: the floor_plan table of the gateway database."""
    store = FloorPlanStore(app[SETTINGS_KEY].database_url)
    app[PLANS_KEY] = store
    await store.open()
    yield
    await store.close()


async def _site_of_floor(call: Call, floor_id: str) -> str | None:
    """The floor's site, from the cached site trees (404 for an unknown floor)."""
    for site in await call.catalog("list_sites"):
        tree = await call.catalog("site_tree", site_id=site["id"])
        for building in tree.get("buildings", []):
            if any(floor["id"] == floor_id for floor in building.get("floors", [])):
                return site["id"]
    raise ApiError("not_found", "floor_not_found")


async def _read_image(request: web.Request) -> tuple[str, bytes]:
    content_type = request.content_type.lower()
    if content_type not in (SVG, PNG):
        raise ApiError("unsupported_media_type", "unsupported_media_type", expected=f"{SVG}, {PNG}")
    if request.content_length is not None and request.content_length > MAX_BYTES:
        raise ApiError("too_large", "too_large", limit=MAX_BYTES)
    chunks, size = [], 0
    async for chunk in request.content.iter_chunked(64 * 1024):  # the app limit is JSON's
        size += len(chunk)
        if size > MAX_BYTES:
            raise ApiError("too_large", "too_large", limit=MAX_BYTES)
        chunks.append(chunk)
    return content_type, b"".join(chunks)


@api.put("/floors/{id}/plan", summary="Upload a floor's plan image (SVG or PNG, 5 MB at most)",
         tag=TAG, action=Action.MANAGE_CATALOG, response=FloorPlan, errors=(404,),
         description="The body is the image itself, `Content-Type: image/svg+xml` or `image/png`. "
                     "Desks' `x`, `y` are in the image's units (an SVG's viewBox, a PNG's pixels); "
                     "the size is also set on the floor (`plan_width`, `plan_height`). SVG plans "
                     "with scripts, event attributes or external references are refused.")
async def put_plan(call: Call):
    floor_id = str(call.path["id"])
    site_id = await _site_of_floor(call, floor_id)
    if call.actor.role is Role.SITE_ADMIN:
        call.check(Action.MANAGE_CATALOG, site_id)
    content_type, data = await _read_image(call.request)
    try:
        width, height = measure(content_type, data)
    except BadPlan as bad:
        raise ApiError("invalid", bad.reason, details={"field": "body"}) from None
    info = await call.request.app[PLANS_KEY].save(uuid.UUID(floor_id), content_type, width, height,
                                                  data, updated_by=call.actor.email)
    await call.rpc("update_entity", actor=call.actor.for_rpc(), entity="floor", entity_id=floor_id,
                   data={"plan_width": max(10, min(100000, round(width))),
                         "plan_height": max(10, min(100000, round(height)))})
    call.request.app[CATALOG_KEY].invalidate("write")
    return ok(info.as_dict())


@api.get("/floors/{id}/plan-info", summary="A floor plan's type and size (404: the floor has none)",
         tag=TAG, action=Action.READ_CATALOG, response=FloorPlan, errors=(404,))
async def plan_info(call: Call):
    info = await call.request.app[PLANS_KEY].info(call.path["id"])
    if info is None:
        raise ApiError("not_found", "plan_not_found")
    return ok(info.as_dict())


@api.get("/floors/{id}/plan", summary="A floor plan image", tag=TAG, action=Action.READ_CATALOG,
         errors=(404,), description="`image/svg+xml` or `image/png`; `ETag` is its SHA-256.")
async def plan_image(call: Call):
    found = await call.request.app[PLANS_KEY].image(call.path["id"])
    if found is None:
        raise ApiError("not_found", "plan_not_found")
    info, data = found
    etag = f'"{info.sha256}"'
    headers = {"ETag": etag, "Cache-Control": "private, no-cache", "Content-Security-Policy": PLAN_CSP,
               "X-Content-Type-Options": "nosniff", "Content-Disposition": "inline"}
    if call.request.headers.get("If-None-Match") == etag:
        return web.Response(status=304, headers=headers)
    return web.Response(body=data, content_type=info.content_type, headers=headers)


@api.delete("/floors/{id}/plan", summary="Remove a floor's plan image", tag=TAG,
            action=Action.MANAGE_CATALOG, status=204, errors=(404,))
async def delete_plan(call: Call):
    floor_id = str(call.path["id"])
    site_id = await _site_of_floor(call, floor_id)
    if call.actor.role is Role.SITE_ADMIN:
        call.check(Action.MANAGE_CATALOG, site_id)
    if not await call.request.app[PLANS_KEY].delete(call.path["id"]):
        raise ApiError("not_found", "plan_not_found")
    return web.Response(status=204)
