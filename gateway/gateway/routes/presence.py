"""Presence: where is X, who is on site, my plan, my status, my privacy, my contacts.

Reads of today's presence are served from the presence service's published
Redis read model (``presence_read``: one Redis round trip, no RPC); when it
cannot answer for sure (being rebuilt, another moment than now, a person not
in it yet), the presence service answers over RPC. Writes always go to the
service.
"""

from __future__ import annotations

import logging

from aiohttp import web

from ..keys import PRESENCE_READ_KEY
from ..openapi import Call
from ..policy import Action
from ..presence_schemas import (
    Contact, ContactBody, Pattern, PatternBody, Plan, PlanBody, PlanQuery, PresenceSearch,
    PresenceSearchQuery, Privacy, PrivacyBody, Roster, RosterQuery, StatusBody, WhereIs,
    WhereIsQuery,
)
from . import api
from .common import ok, service_rpc, without_none

log = logging.getLogger(__name__)

TAG = "presence"


async def presence_rpc(call: Call, method: str, **kwargs):
    return await service_rpc(call.request, "presence", method, **kwargs)


def _viewer(call: Call) -> tuple[str | None, str]:
    actor = call.actor
    return (str(actor.person_id) if actor.person_id else None), actor.role.value


# Registered before /presence/{person}: routes match in order.
@api.get("/presence/search", summary="Find people by name, with where they are now", tag=TAG,
         action=Action.READ_PRESENCE, query=PresenceSearchQuery, response=PresenceSearch,
         description="Accent- and case-insensitive; any part of a hyphenated or compound name; "
                     "prefixes and small typing errors. Homonyms differ by department.")
async def find_people(call: Call):
    q: PresenceSearchQuery = call.query
    return ok(await presence_rpc(call, "find_people", actor=call.actor.for_rpc(), q=q.q, limit=q.limit))


@api.get("/presence/{person}", summary="Where is this person, and how to reach them now", tag=TAG,
         action=Action.READ_PRESENCE, query=WhereIsQuery, response=WhereIs,
         description="Status now (or at `at`), the signal that decided it, since and until when, "
                     "where, and contact channels best first. People who hide their presence "
                     "from the caller read `not_available`.")
async def where_is(call: Call):
    person = str(call.path["person"])
    at = call.query.at
    if at is None:
        reader = call.request.app[PRESENCE_READ_KEY]
        try:
            answer = await reader.where_is(*_viewer(call), person)
        except Exception as exc:  # Redis away: the service answers
            log.warning("presence read model unavailable", extra={"error": type(exc).__name__})
            answer = None
        if answer is not None:
            return web.Response(text=answer, content_type="application/json")
    return ok(await presence_rpc(call, "where_is", actor=call.actor.for_rpc(), person_id=person,
                                 **without_none(at=at.isoformat() if at else None)))


@api.get("/presence", summary="Who is on site: a site (or all), a day, optionally a team", tag=TAG,
         action=Action.READ_PRESENCE, query=RosterQuery, response=Roster,
         description="Everyone whose plan for that day (declared, weekly pattern or desk booking) "
                     "is on site, with their desks; people who hide their presence from the caller "
                     "are left out.")
async def who_is_on_site(call: Call):
    q: RosterQuery = call.query
    reader = call.request.app[PRESENCE_READ_KEY]
    site = str(q.site) if q.site else None
    team = str(q.team) if q.team else None
    day = q.date
    if day is None:
        try:
            day = await reader.today()
        except Exception:
            day = None
    if day is not None:
        try:
            body = await reader.roster(*_viewer(call), day, site, team)
        except Exception as exc:
            log.warning("presence read model unavailable", extra={"error": type(exc).__name__})
            body = None
        if body is not None:
            return web.Response(body=body, content_type="application/json", charset="utf-8")
    result = await presence_rpc(call, "on_site", actor=call.actor.for_rpc(),
                                date=day.isoformat() if day else None, site_id=site, team_id=team)
    return ok(result)


@api.get("/me/plan", summary="My plan, day by day, and my weekly pattern", tag=TAG,
         action=Action.SET_OWN_PRESENCE, query=PlanQuery, response=Plan)
async def get_plan(call: Call):
    q: PlanQuery = call.query
    return ok(await presence_rpc(call, "get_plan", actor=call.actor.for_rpc(), start=q.start.isoformat(),
                                 end=q.end.isoformat()))


@api.put("/me/plan", summary="Declare my plan for days or half-days (a whole week in one call)",
         tag=TAG, action=Action.SET_OWN_PRESENCE, body=PlanBody, response=Plan,
         description="on_site (with a site), remote, off or mission; `status: null` removes a "
                     "declaration. A declaration wins over a desk booking, which wins over the "
                     "weekly pattern.")
async def set_plan(call: Call):
    body: PlanBody = call.body
    return ok(await presence_rpc(call, "set_plan", actor=call.actor.for_rpc(),
                                 days=body.model_dump(mode="json")["days"]))


@api.get("/me/pattern", summary="My weekly pattern", tag=TAG, action=Action.SET_OWN_PRESENCE,
         response=Pattern)
async def get_pattern(call: Call):
    return ok(await presence_rpc(call, "get_pattern", actor=call.actor.for_rpc()))


@api.put("/me/pattern", summary="Replace my weekly pattern (\"remote every Friday\")", tag=TAG,
         action=Action.SET_OWN_PRESENCE, body=PatternBody, response=Pattern)
async def set_pattern(call: Call):
    body: PatternBody = call.body
    return ok(await presence_rpc(call, "set_pattern", actor=call.actor.for_rpc(),
                                 pattern=body.model_dump(mode="json")["pattern"]))


@api.put("/me/status", summary="Set a temporary status until a time (it then ends by itself)",
         tag=TAG, action=Action.SET_OWN_PRESENCE, body=StatusBody, response=WhereIs)
async def set_status(call: Call):
    body: StatusBody = call.body
    return ok(await presence_rpc(call, "set_status", actor=call.actor.for_rpc(), kind=body.kind,
                                 until=body.until.isoformat(), label=body.label))


@api.delete("/me/status", summary="End my temporary status now", tag=TAG,
            action=Action.SET_OWN_PRESENCE, response=WhereIs)
async def clear_status(call: Call):
    return ok(await presence_rpc(call, "clear_status", actor=call.actor.for_rpc()))


@api.get("/me/privacy", summary="Who sees my presence", tag=TAG, action=Action.SET_OWN_PRESENCE,
         response=Privacy)
async def get_privacy(call: Call):
    return ok(await presence_rpc(call, "get_privacy", actor=call.actor.for_rpc()))


@api.put("/me/privacy", summary="Choose who sees my presence: everyone, my teams, or nobody",
         tag=TAG, action=Action.SET_OWN_PRESENCE, body=PrivacyBody, response=Privacy)
async def set_privacy(call: Call):
    body: PrivacyBody = call.body
    return ok(await presence_rpc(call, "set_privacy", actor=call.actor.for_rpc(),
                                 visibility=body.visibility))


@api.put("/me/contact", summary="How to reach me: softphone, video link, chat handle, preferred channel",
         tag=TAG, action=Action.SET_OWN_PRESENCE, body=ContactBody, response=Contact)
async def set_contact(call: Call):
    body: ContactBody = call.body
    contact = body.model_dump(mode="json", exclude_none=True)
    entry = await call.rpc("update_contact", actor=call.actor.for_rpc(), contact=contact)
    try:  # presence shows the new channels at once instead of at its next directory sync
        await presence_rpc(call, "refresh_person", person_id=entry["id"])
    except Exception as exc:
        log.warning("presence not refreshed after a contact change", extra={"error": type(exc).__name__})
    return ok(entry)
