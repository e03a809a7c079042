"""What the live hub (``live.py``) carries today: presence and booking events.

Each source turns one AMQP event into deliveries: the topics it concerns,
the message, and who may see it.

* ``presence.changed`` / ``workplan.changed`` (exchange ``presence.events``):
  topics ``person:<id>``, ``team:<id>`` of each of their teams, and the
  ``site:``/``floor:`` of where they are; visible only to those the person's
  privacy choice allows (the event's ``audience``, same rule as the read
  model). Contacts are never pushed.
* ``booking.*`` (exchange ``booking.events``): topics ``resource:``,
  ``floor:``, ``site:`` of the booked place and ``person:`` of its holder;
  everyone sees that the place is taken and when, only the holder sees the
  whole booking (as ``GET /bookings/{id}`` does).

Also here: how a live client is authenticated (the same tokens as the API)
and which topics a role may subscribe to.
"""

from __future__ import annotations

from typing import Iterable

from aiohttp import web

from . import auth
from .errors import ApiError
from .keys import PRESENCE_READ_KEY, RPC_KEY, TOKENS_KEY
from .live import Delivery, Source, Viewer
from .policy import Action, Denied, Role, check
from .presence_read import may_see

BOOKING_PRIVATE = ("person_id", "title", "series_id", "source", "created_at", "checked_in_at")


def _visible(audience: dict, subject_id: str):
    visibility = audience.get("visibility", "nobody")
    team_ids = audience.get("team_ids") or []

    def visible_to(viewer: Viewer) -> bool:
        return may_see(viewer.person_id, viewer.role, viewer.team_ids, subject_id, visibility, team_ids)

    return visible_to


def translate_presence(routing_key: str, event: dict) -> Iterable[Delivery]:
    person_id = event.get("person_id")
    if not isinstance(person_id, str):
        return []
    audience = event.get("audience") or {}
    topics = {f"person:{person_id}"} | {f"team:{t}" for t in audience.get("team_ids") or []}
    common = {"type": routing_key, "event_id": event.get("event_id"), "person_id": person_id,
              "occurred_at": event.get("occurred_at")}
    if routing_key == "presence.changed":
        presence = {k: v for k, v in (event.get("presence") or {}).items() if k != "reach"}
        place = presence.get("place") or {}
        for kind in ("site", "floor"):
            if place.get(f"{kind}_id"):
                topics.add(f"{kind}:{place[f'{kind}_id']}")
        message = {**common, "date": event.get("date"), "presence": presence, "cause": event.get("cause")}
    elif routing_key == "workplan.changed":
        days = event.get("days") or []
        for day in days:
            for half in ("am", "pm"):
                site = (day.get(half) or {}).get("site_id")
                if site:
                    topics.add(f"site:{site}")
        message = {**common, "days": days, "cause": event.get("cause")}
    else:
        return []
    return [Delivery(frozenset(topics), message, _visible(audience, person_id))]


def translate_booking(routing_key: str, event: dict) -> Iterable[Delivery]:
    booking = event.get("booking")
    if not isinstance(booking, dict):
        return []
    holder = booking.get("person_id")
    topics = {f"{kind}:{booking[f'{kind}_id']}" for kind in ("resource", "floor", "site")
              if booking.get(f"{kind}_id")}
    if holder:
        topics.add(f"person:{holder}")
    public = {"type": routing_key, "event_id": event.get("event_id"),
              "occurred_at": event.get("occurred_at"),
              "booking": {k: v for k, v in booking.items() if k not in BOOKING_PRIVATE}}
    owned = {**public, "booking": booking}

    def variant(viewer: Viewer) -> dict:
        return owned if viewer.person_id is not None and viewer.person_id == holder else public

    return [Delivery(frozenset(topics), public, variant=variant)]


SOURCES = [
    Source("presence.events", ("presence.changed", "workplan.changed"), translate_presence),
    Source("booking.events", ("booking.*",), translate_booking),
]


def read_model_source(reader) -> Source:
    """Not for clients: keeps the gateway's memory of presence's read model
    (``presence_read``) right, by forgetting a person on each of their events."""

    def forget(routing_key: str, event: dict) -> Iterable[Delivery]:
        reader.forget(event.get("person_id"))
        return ()

    return Source("presence.events", ("presence.changed", "workplan.changed"), forget)


def allow_topic(viewer: Viewer, topic: str) -> bool:
    """People may follow any place, person or team: what each event shows is
    filtered per viewer anyway. (Door tablets will follow their room.)"""
    if viewer.role == Role.DEVICE.value:
        return viewer.room_id is not None and topic == f"resource:{viewer.room_id}"
    return True


async def _viewer(app: web.Application, token: str) -> Viewer | None:
    record = await app[TOKENS_KEY].find(token) if token else None
    if not auth.credential_usable(app, record):
        return None
    role = Role(record.role)
    person_id = record.person_id
    if person_id is None and role in auth.PEOPLE_ROLES:
        person_id = await auth._person_of(app, record.id, record.email)
    pid = str(person_id) if person_id else None
    teams = await _teams(app, pid, role)
    return Viewer(pid, role.value, frozenset(teams), frozenset(str(s) for s in record.site_ids),
                  str(record.room_id) if record.room_id else None, str(record.id))


async def _teams(app: web.Application, person_id: str | None, role: Role) -> frozenset[str]:
    """The viewer's teams from presence's directory; someone it does not know yet
    is looked up once through the service (which then keeps them)."""
    if person_id is None:
        return frozenset()
    reader = app[PRESENCE_READ_KEY]
    teams = await reader.team_ids(person_id)
    if teams is None:
        actor = {"person_id": person_id, "role": role.value, "site_ids": [], "room_id": None}
        try:
            answer = await app[RPC_KEY].call("presence", "where_is", actor=actor, person_id=person_id)
            teams = frozenset(t["id"] for t in answer["person"].get("teams", []))
        except Exception:  # unknown to the directory, or presence away: no team
            teams = frozenset()
    return teams


def authenticator(app: web.Application):
    async def authenticate(request: web.Request, token: str) -> Viewer:
        if not token:
            raise ApiError("unauthorized", "auth_missing")
        try:
            viewer = await _viewer(app, token)
        except ApiError:
            raise
        except Exception as exc:  # the token store or Redis is down
            raise ApiError("service_unavailable", "service_unavailable", service="authentication") from exc
        if viewer is None:
            raise ApiError("unauthorized", "auth_invalid")
        try:
            check(_policy_actor(viewer), Action.LIVE)
        except Denied as denied:
            raise ApiError("forbidden", denied.reason, role=viewer.role) from None
        return viewer

    async def recheck(token: str) -> Viewer | None:
        return await _viewer(app, token)

    return authenticate, recheck


def _policy_actor(viewer: Viewer):
    import uuid

    from .policy import Actor

    return Actor(token_id=uuid.UUID(int=0), role=Role(viewer.role), email="",
                 person_id=uuid.UUID(viewer.person_id) if viewer.person_id else None)
