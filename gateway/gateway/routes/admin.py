"""Administration: catalogue entities, booking rules and CSV imports.

Role checks happen here when the target site is known to the gateway (a
site id in the path or the body, or a resource's site); otherwise the booking
service checks that a site admin administers the entity's site.
"""

from __future__ import annotations

from typing import Literal

from ..keys import CATALOG_KEY
from ..openapi import CSV, Call
from ..policy import Action, Role
from ..schemas import (
    Building, BuildingCreate, BuildingUpdate, Floor, FloorCreate, FloorUpdate, ImportResult,
    Resource, ResourceCreate, ResourceUpdate, Rules, RulesBody, Site, SiteCreate, SiteUpdate,
    Zone, ZoneCreate, ZoneUpdate,
)
from . import api
from .common import ok

TAG = "administration"
KindPath = Literal["desk", "room", "equipment"]


def _data(model) -> dict:
    """Only the fields the caller sent (the service applies its defaults)."""
    return model.model_dump(mode="json", exclude_unset=True)


async def _changed(call: Call, result):
    # Read-your-writes on this replica; the others learn it from resource.changed.
    call.request.app[CATALOG_KEY].invalidate("write")
    return result


async def _create(call: Call, entity: str):
    result = await call.rpc("create_entity", actor=call.actor.for_rpc(), entity=entity,
                            data=_data(call.body))
    return ok(await _changed(call, result), 201)


async def _update(call: Call, entity: str):
    result = await call.rpc("update_entity", actor=call.actor.for_rpc(), entity=entity,
                            entity_id=str(call.path["id"]), data=_data(call.body))
    return ok(await _changed(call, result))


async def _delete(call: Call, entity: str):
    result = await call.rpc("delete_entity", actor=call.actor.for_rpc(), entity=entity,
                            entity_id=str(call.path["id"]))
    return ok(await _changed(call, result))


async def _resource_site(call: Call):
    """The site of the resource in the path (only needed to judge a site admin)."""
    if call.actor.role is not Role.SITE_ADMIN:
        return None
    resource = await call.catalog("get_resource", resource_id=str(call.path["id"]))
    return resource.get("site_id") if isinstance(resource, dict) else None


# --- sites -------------------------------------------------------------------------------


@api.post("/sites", summary="Create a site (admin)", tag=TAG, action=Action.CREATE_SITE,
          body=SiteCreate, response=Site, status=201, errors=(409,))
async def create_site(call: Call):
    return await _create(call, "site")


@api.patch("/sites/{id}", summary="Change a site", tag=TAG, action=Action.MANAGE_CATALOG,
           body=SiteUpdate, response=Site, errors=(409,))
async def update_site(call: Call):
    call.check(Action.MANAGE_CATALOG, call.path["id"])
    return await _update(call, "site")


@api.delete("/sites/{id}", summary="Delete an empty site", tag=TAG, action=Action.MANAGE_CATALOG,
            response=Site, errors=(409,))
async def delete_site(call: Call):
    call.check(Action.MANAGE_CATALOG, call.path["id"])
    return await _delete(call, "site")


@api.put("/sites/{id}/rules/{kind}", summary="Set the booking rules of a site for a resource kind",
         tag=TAG, action=Action.MANAGE_RULES, body=RulesBody, response=Rules,
         path_types={"kind": KindPath})
async def set_rules(call: Call):
    call.check(Action.MANAGE_RULES, call.path["id"])
    result = await call.rpc("set_rules", actor=call.actor.for_rpc(), site_id=str(call.path["id"]),
                            resource_kind=call.path["kind"],
                            rules=call.body.model_dump(exclude_unset=True))
    return ok(result)


# --- buildings, floors, zones ---------------------------------------------------------------


@api.post("/buildings", summary="Create a building", tag=TAG, action=Action.MANAGE_CATALOG,
          body=BuildingCreate, response=Building, status=201, errors=(404, 409))
async def create_building(call: Call):
    call.check(Action.MANAGE_CATALOG, call.body.site_id)
    return await _create(call, "building")


@api.patch("/buildings/{id}", summary="Change a building", tag=TAG,
           action=Action.MANAGE_CATALOG, body=BuildingUpdate, response=Building, errors=(409,))
async def update_building(call: Call):
    return await _update(call, "building")


@api.delete("/buildings/{id}", summary="Delete an empty building", tag=TAG,
            action=Action.MANAGE_CATALOG, response=Building, errors=(409,))
async def delete_building(call: Call):
    return await _delete(call, "building")


@api.post("/floors", summary="Create a floor", tag=TAG, action=Action.MANAGE_CATALOG,
          body=FloorCreate, response=Floor, status=201, errors=(404, 409))
async def create_floor(call: Call):
    return await _create(call, "floor")


@api.patch("/floors/{id}", summary="Change a floor", tag=TAG, action=Action.MANAGE_CATALOG,
           body=FloorUpdate, response=Floor, errors=(409,))
async def update_floor(call: Call):
    return await _update(call, "floor")


@api.delete("/floors/{id}", summary="Delete an empty floor", tag=TAG,
            action=Action.MANAGE_CATALOG, response=Floor, errors=(409,))
async def delete_floor(call: Call):
    return await _delete(call, "floor")


@api.post("/zones", summary="Create a zone", tag=TAG, action=Action.MANAGE_CATALOG,
          body=ZoneCreate, response=Zone, status=201, errors=(404, 409))
async def create_zone(call: Call):
    return await _create(call, "zone")


@api.patch("/zones/{id}", summary="Change a zone", tag=TAG, action=Action.MANAGE_CATALOG,
           body=ZoneUpdate, response=Zone, errors=(409,))
async def update_zone(call: Call):
    return await _update(call, "zone")


@api.delete("/zones/{id}", summary="Delete an empty zone", tag=TAG,
            action=Action.MANAGE_CATALOG, response=Zone, errors=(409,))
async def delete_zone(call: Call):
    return await _delete(call, "zone")


# --- resources -------------------------------------------------------------------------------


@api.post("/resources", summary="Create a desk, room or equipment", tag=TAG,
          action=Action.MANAGE_CATALOG, body=ResourceCreate, response=Resource, status=201,
          errors=(404, 409))
async def create_resource(call: Call):
    return await _create(call, "resource")


@api.patch("/resources/{id}", summary="Change a resource", tag=TAG,
           action=Action.MANAGE_CATALOG, body=ResourceUpdate, response=Resource, errors=(409,))
async def update_resource(call: Call):
    call.check(Action.MANAGE_CATALOG, await _resource_site(call))
    return await _update(call, "resource")


@api.delete("/resources/{id}", summary="Deactivate a resource (its history stays)", tag=TAG,
            action=Action.MANAGE_CATALOG, response=Resource, errors=(409,))
async def delete_resource(call: Call):
    call.check(Action.MANAGE_CATALOG, await _resource_site(call))
    return await _delete(call, "resource")


# --- imports -------------------------------------------------------------------------------------


@api.post(
    "/imports/resources", summary="Import sites, buildings, floors, zones and resources from CSV",
    tag=TAG, action=Action.IMPORT_RESOURCES, body=CSV, response=ImportResult,
    description="A `text/csv` body of at most 2 MB. A bad file imports nothing: 422 "
                "`import_rejected` with `errors: [{line, column, message}]`.",
)
async def import_resources(call: Call):
    result = await call.rpc("import_resources", actor=call.actor.for_rpc(), csv_text=call.body)
    return ok(await _changed(call, result))


@api.post(
    "/imports/people", summary="Import people and teams from CSV (admin)", tag=TAG,
    action=Action.IMPORT_PEOPLE, body=CSV, response=ImportResult,
    description="A `text/csv` body of at most 2 MB. A bad file imports nothing: 422 "
                "`import_rejected` with `errors: [{line, column, message}]`.",
)
async def import_people(call: Call):
    result = await call.rpc("import_people", actor=call.actor.for_rpc(), csv_text=call.body)
    return ok(result)
