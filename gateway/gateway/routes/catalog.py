"""Catalogue reads (sites, trees, resources, rules) and availability."""

from __future__ import annotations

from ..openapi import Call
from ..policy import Action
from ..schemas import (
    Availability, AvailabilityQuery, Resource, ResourcesQuery, RulesBySite, Site, SiteTree,
)
from . import api
from .common import ok, without_none

TAG = "catalogue"


@api.get("/sites", summary="All sites", tag=TAG, action=Action.READ_CATALOG, response=list[Site])
async def list_sites(call: Call):
    return ok(await call.catalog("list_sites"))


@api.get("/sites/{id}", summary="A site with its buildings, floors and zones", tag=TAG,
         action=Action.READ_CATALOG, response=SiteTree)
async def site_tree(call: Call):
    return ok(await call.catalog("site_tree", site_id=str(call.path["id"])))


@api.get("/sites/{id}/rules", summary="Booking rules of a site, per resource kind", tag=TAG,
         action=Action.READ_CATALOG, response=RulesBySite)
async def get_rules(call: Call):
    return ok(await call.rpc("get_rules", site_id=str(call.path["id"])))


@api.get("/resources", summary="Active desks, rooms and equipment, filtered", tag=TAG,
         action=Action.READ_CATALOG, query=ResourcesQuery, response=list[Resource])
async def list_resources(call: Call):
    q: ResourcesQuery = call.query
    return ok(await call.catalog("list_resources", **without_none(
        site_id=q.site_id, floor_id=q.floor_id, zone_id=q.zone_id, kind=q.kind)))


@api.get("/resources/{id}", summary="One resource", tag=TAG, action=Action.READ_CATALOG,
         response=Resource)
async def get_resource(call: Call):
    return ok(await call.catalog("get_resource", resource_id=str(call.path["id"])))


@api.get(
    "/availability", summary="What is free on a site, floor or zone, for a slot or a day part",
    tag=TAG, action=Action.READ_AVAILABILITY, query=AvailabilityQuery, response=Availability,
    description=(
        "Exactly one of `site_id`, `floor_id`, `zone_id`; `start` and `end`, or `date` "
        "(and `period`, default `day`). In a query string write the offset's `+` as `%2B`."
    ),
)
async def availability(call: Call):
    return ok(await call.rpc("availability", actor=call.actor.for_rpc(), **call.query.to_kwargs()))

