"""The directory: search people, one person, and the caller (``/me``)."""

from __future__ import annotations

from ..openapi import Call
from ..rpc import RemoteError
from ..schemas import Me, PeopleQuery, Person
from ..sessions import CSRF_KEY
from ..policy import Action
from . import api
from .common import ok

TAG = "people"


@api.get("/people", summary="Search people by name or email", tag=TAG,
         action=Action.READ_PEOPLE, query=PeopleQuery, response=list[Person])
async def search_people(call: Call):
    q: PeopleQuery = call.query
    return ok(await call.rpc("search_people", q=q.q, limit=q.limit))


@api.get("/people/{id}", summary="One person", tag=TAG, action=Action.READ_PEOPLE,
         response=Person)
async def get_person(call: Call):
    return ok(await call.rpc("get_person", person_id=str(call.path["id"])))


@api.get("/me", summary="The caller: token role and sites, and their person record", tag=TAG,
         action=Action.READ_ME, response=Me)
async def me(call: Call):
    actor = call.actor
    person = None
    if actor.person_id is not None:
        try:
            person = await call.rpc("get_person", person_id=str(actor.person_id))
        except RemoteError as exc:
            if not (isinstance(exc.exc_args, list) and exc.exc_args[:1] == ["not_found"]):
                raise
    return ok({
        "actor": {
            "token_id": str(actor.token_id),
            "role": actor.role.value,
            "email": actor.email,
            "person_id": str(actor.person_id) if actor.person_id else None,
            "site_ids": sorted(str(s) for s in actor.site_ids),
            "room_id": str(actor.room_id) if actor.room_id else None,
        },
        "person": person,
        # Signed in with the session cookie: what page scripts send as X-CSRF-Token.
        **({"csrf_token": call.request[CSRF_KEY]} if CSRF_KEY in call.request else {}),
    })
