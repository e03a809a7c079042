"""Catalogue reads (sites, trees, resources, rules) and availability."""

from __future__ import annotations

from ..openapi import Call
from ..policy import Action
from ..schemas import (
    Availability, AvailabilityQuery, Resource, ResourcesQuery, RulesBySite, Site, SiteTree,
)
from aiohttp import web

from . import api
from .common import dumps, ok, without_none

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
    """Statuses come from the booking service (compact rows); the resources
    themselves from the catalogue cache, so the hot floor-plan read moves a
    few kilobytes over RPC instead of the whole floor. Each cached resource
    is kept JSON-encoded, and the answer is spliced from those fragments."""
    query = call.query.to_kwargs()
    answer = await call.rpc("availability", actor=call.actor.for_rpc(), compact=True, **query)
    scope = {k: query[k] for k in ("site_id", "floor_id", "zone_id", "kind") if query.get(k) is not None}
    fragments = _encoded(await call.catalog("list_resources", **scope))
    if any(row[0] not in fragments for row in answer["statuses"]):
        # A resource newer than the cache (its event is still on the way).
        fragments = _encoded(await call.rpc("list_resources", **scope))
    items = []
    for resource_id, status, booking_id, reason in answer["statuses"]:
        extra = {"status": status}
        if booking_id is not None:
            extra["booking_id"] = booking_id
        if reason is not None:
            extra["reason"] = reason
        items.append(fragments[resource_id] + "," + dumps(extra)[1:])
    body = (
        '{"start":' + dumps(answer["start"]) + ',"end":' + dumps(answer["end"])
        + ',"resources":[' + ",".join(items) + "]}"
    )
    return web.Response(text=body, content_type="application/json")


_ENCODED: dict[int, tuple[list, dict[str, str]]] = {}


def _encoded(resources: list[dict]) -> dict[str, str]:
    """``{id: '{...'}``: each resource's JSON without its closing brace, kept
    while the cache hands out the same list object."""
    entry = _ENCODED.get(id(resources))
    if entry is not None and entry[0] is resources:
        return entry[1]
    fragments = {r["id"]: dumps(r)[:-1] for r in resources}
    if len(_ENCODED) > 256:
        _ENCODED.clear()
    _ENCODED[id(resources)] = (resources, fragments)
    return fragments
