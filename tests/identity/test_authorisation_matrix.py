"""The authorisation matrix: roles (agent, site_admin, admin, device, bot) x actions x
owner / other person / other site.

Two halves of one policy are checked: the gateway's (``gateway/policy.py``: which
role may call which operation, on which site) and the booking service's
(``booking/domain/access.py``: whose booking, which site, which room), joined by
the actor the gateway sends (``Actor.for_rpc``). Then the same rules through real
routes of a real gateway and booking service.

Elsewhere: revocation of a cached token (gateway/tests/test_api_auth.py) and of a
session (tests/identity/test_sessions.py), each within a second.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import datetime, timedelta, timezone

import aiohttp
import httpx
import pytest

from booking.domain import access
from gateway.adapters.tokens import list_tokens, revoke_token
from gateway.policy import ALLOWED, SITE_SCOPED, Action, Actor, Denied, Role, can, check, check_booking_for
from tests.support.data import make_place
from tests.support.clock import paris_today

from .conftest import demo_signin

SITE, OTHER_SITE = uuid.uuid4(), uuid.uuid4()
ME, SOMEONE = uuid.uuid4(), uuid.uuid4()
ROOM, OTHER_ROOM = uuid.uuid4(), uuid.uuid4()

ACTORS = {
    Role.AGENT: Actor(uuid.uuid4(), Role.AGENT, "a@x.fr", person_id=ME),
    Role.SITE_ADMIN: Actor(uuid.uuid4(), Role.SITE_ADMIN, "s@x.fr", person_id=ME,
                           site_ids=frozenset({SITE})),
    Role.ADMIN: Actor(uuid.uuid4(), Role.ADMIN, "d@x.fr", person_id=ME),
    Role.DEVICE: Actor(uuid.uuid4(), Role.DEVICE, "t@x.fr", room_id=ROOM),
    Role.BOT: Actor(uuid.uuid4(), Role.BOT, "b@x.fr"),
}

# Actions only an admin may take, whatever the site.
ADMIN_ONLY = {Action.CREATE_SITE, Action.IMPORT_PEOPLE, Action.MANAGE_DEVICES, Action.MANAGE_TOKENS,
              Action.MANAGE_NOTIFICATIONS, Action.MANAGE_PERSONAL_DATA, Action.MANAGE_RETENTION,
              Action.READ_AUDIT}


def read_only(action: Action) -> bool:
    """Reads by name: ``*.read`` (and following live updates)."""
    return action.value.endswith(".read") or action is Action.LIVE


# --- the gateway's half (unit) ------------------------------------------------------------

# (role, action, site: "own" | "other" | None) -> allowed. The rows the issue names.
MATRIX = [
    (Role.AGENT, Action.BOOK, None, True),
    (Role.AGENT, Action.CANCEL_BOOKING, None, True),        # the service keeps it to their own
    (Role.AGENT, Action.BOOK_FOR_OTHERS, "own", False),
    (Role.AGENT, Action.MANAGE_CATALOG, "own", False),
    (Role.AGENT, Action.MANAGE_RULES, None, False),
    (Role.AGENT, Action.READ_AUDIT, None, False),
    (Role.SITE_ADMIN, Action.MANAGE_CATALOG, "own", True),
    (Role.SITE_ADMIN, Action.MANAGE_CATALOG, "other", False),
    (Role.SITE_ADMIN, Action.MANAGE_RULES, "own", True),
    (Role.SITE_ADMIN, Action.MANAGE_RULES, "other", False),
    (Role.SITE_ADMIN, Action.BOOK_FOR_OTHERS, "own", True),
    (Role.SITE_ADMIN, Action.BOOK_FOR_OTHERS, "other", False),
    (Role.SITE_ADMIN, Action.IMPORT_RESOURCES, "other", False),
    (Role.SITE_ADMIN, Action.CREATE_SITE, None, False),
    (Role.SITE_ADMIN, Action.IMPORT_PEOPLE, None, False),
    (Role.SITE_ADMIN, Action.MANAGE_DEVICES, None, False),
    (Role.ADMIN, Action.MANAGE_CATALOG, "other", True),
    (Role.ADMIN, Action.CREATE_SITE, None, True),
    (Role.ADMIN, Action.MANAGE_DEVICES, None, True),
    (Role.ADMIN, Action.MANAGE_TOKENS, None, True),
    (Role.SITE_ADMIN, Action.MANAGE_TOKENS, None, False),
    (Role.BOT, Action.MANAGE_TOKENS, None, False),
    (Role.DEVICE, Action.DISPLAY, None, True),
    (Role.DEVICE, Action.READ_CATALOG, None, True),
    (Role.DEVICE, Action.BOOK, None, False),
    (Role.DEVICE, Action.CANCEL_BOOKING, None, False),
    (Role.DEVICE, Action.READ_PEOPLE, None, False),
    (Role.DEVICE, Action.READ_BOOKINGS, None, False),
    (Role.BOT, Action.READ_PEOPLE, None, True),
    (Role.BOT, Action.READ_PRESENCE, None, True),
    (Role.BOT, Action.READ_AVAILABILITY, None, True),
    (Role.BOT, Action.BOOK, None, False),
    (Role.BOT, Action.CANCEL_BOOKING, None, False),
    (Role.BOT, Action.CHECK_IN, None, False),
    (Role.BOT, Action.SET_OWN_PRESENCE, None, False),
    (Role.BOT, Action.READ_BOOKINGS, None, False),
    (Role.BOT, Action.DISPLAY, None, False),
]


@pytest.mark.unit
@pytest.mark.parametrize("role, action, site, allowed", MATRIX,
                         ids=[f"{r.value}-{a.value}-{s or 'any'}" for r, a, s, _ in MATRIX])
def test_matrix(role, action, site, allowed):
    target = {"own": SITE, "other": OTHER_SITE, None: None}[site]
    assert can(ACTORS[role], action, target) is allowed


@pytest.mark.unit
@pytest.mark.parametrize("action", list(Action), ids=lambda a: a.value)
def test_every_action_by_role(action):
    """Every action (also those added later) keeps the roles' boundaries."""
    if not read_only(action):
        assert not can(ACTORS[Role.BOT], action), "bots are read-only"
    assert can(ACTORS[Role.DEVICE], action) == (
        action in {Action.READ_ME, Action.READ_CATALOG, Action.DISPLAY, Action.LIVE})
    assert can(ACTORS[Role.ADMIN], action, OTHER_SITE)
    if action in ADMIN_ONLY or action in SITE_SCOPED:
        assert not can(ACTORS[Role.AGENT], action, SITE)
    if action in ADMIN_ONLY:
        assert not can(ACTORS[Role.SITE_ADMIN], action, SITE)
    if action in SITE_SCOPED:
        assert can(ACTORS[Role.SITE_ADMIN], action, SITE)
        with pytest.raises(Denied) as denied:
            check(ACTORS[Role.SITE_ADMIN], action, OTHER_SITE)
        assert denied.value.reason == "forbidden_site"
    # A person's own actions are a person's: never a bot's nor a device's.
    if action in ALLOWED[Role.AGENT] and not read_only(action):
        assert can(ACTORS[Role.AGENT], action) and can(ACTORS[Role.SITE_ADMIN], action)


@pytest.mark.unit
def test_booking_for_someone_else():
    check_booking_for(ACTORS[Role.AGENT], ME)
    for role in (Role.AGENT,):
        with pytest.raises(Denied):
            check_booking_for(ACTORS[role], SOMEONE)
    for role in (Role.SITE_ADMIN, Role.ADMIN):
        check_booking_for(ACTORS[role], SOMEONE)
    for role in (Role.BOT, Role.DEVICE):
        with pytest.raises(Denied):
            check_booking_for(ACTORS[role], None)


# --- the booking service's half, as the gateway's actor reaches it (unit) ---------------------


def wire(role: Role) -> access.Actor:
    return access.Actor.from_wire(ACTORS[role].for_rpc())


def booking(owner=SOMEONE, site=SITE, resource=OTHER_ROOM) -> dict:
    return {"id": str(uuid.uuid4()), "person_id": str(owner), "site_id": str(site),
            "resource_id": str(resource), "title": "Entretien annuel", "series_id": None,
            "source": "api", "created_at": "2026-03-01T10:00:00+01:00", "checked_in_at": None,
            "start": "2026-03-10T09:00:00+01:00", "end": "2026-03-10T10:00:00+01:00"}


# (role, owner, site) -> may change (cancel, check in) and see whole
OWNERSHIP = [
    (Role.AGENT, "me", "own", True), (Role.AGENT, "other", "own", False),
    (Role.AGENT, "other", "other", False),
    (Role.SITE_ADMIN, "other", "own", True), (Role.SITE_ADMIN, "other", "other", False),
    (Role.SITE_ADMIN, "me", "other", True),
    (Role.ADMIN, "other", "other", True),
    (Role.BOT, "other", "own", False), (Role.DEVICE, "other", "own", False),
]


@pytest.mark.unit
@pytest.mark.parametrize("role, owner, site, allowed", OWNERSHIP,
                         ids=[f"{r.value}-{o}-owner-{s}-site" for r, o, s, _ in OWNERSHIP])
def test_owner_other_other_site(role, owner, site, allowed):
    item = booking(owner=ME if owner == "me" else SOMEONE, site=SITE if site == "own" else OTHER_SITE)
    actor = wire(role)
    assert access.may_change(actor, item["person_id"], item["site_id"]) is allowed
    if allowed:
        access.require_change(actor, item["person_id"], item["site_id"])
        assert access.visible_booking(actor, item) == item
    else:
        with pytest.raises(Exception) as refused:
            access.require_change(actor, item["person_id"], item["site_id"])
        assert type(refused.value).__name__ == "Forbidden"
        shown = access.visible_booking(actor, item)
        assert "person_id" not in shown and "title" not in shown


@pytest.mark.unit
def test_a_device_acts_only_in_its_own_room():
    tablet = wire(Role.DEVICE)
    access.require_attendance(tablet, booking(resource=ROOM))          # its room's door
    with pytest.raises(Exception) as refused:
        access.require_attendance(tablet, booking(resource=OTHER_ROOM))
    assert type(refused.value).__name__ == "Forbidden"
    assert access.require_room_device(tablet) == str(ROOM)
    assert "person_id" not in access.visible_booking(tablet, booking(resource=ROOM))
    with pytest.raises(Exception):
        access.booking_person(tablet, None, str(SITE))


# --- through real routes ----------------------------------------------------------------------


def day(offset: int) -> str:
    return (paris_today() + timedelta(days=offset)).isoformat()


def slot(minutes_from_now: int, length: int = 30) -> dict:
    start = (datetime.now(timezone.utc) + timedelta(minutes=minutes_from_now)).replace(
        second=0, microsecond=0)
    return {"start": start.isoformat(), "end": (start + timedelta(minutes=length)).isoformat()}


class Callers:
    def __init__(self, issue, place, other):
        bearer = lambda t: {"Authorization": f"Bearer {t}"}  # noqa: E731
        self.agent = bearer(issue(place.emails[0], "agent", person_id=place.people[0]))
        self.colleague = bearer(issue(place.emails[1], "agent", person_id=place.people[1]))
        self.site_admin = bearer(issue(place.emails[2], "site_admin", person_id=place.people[2],
                                       site_ids=[place.site_id]))
        self.admin = bearer(issue("matrix.admin@mairie-test.fr", "admin"))
        self.bot = bearer(issue("matrix.bot@mairie-test.fr", "bot"))
        self.device = bearer(issue("matrix.tablet@mairie-test.fr", "device", room_id=place.rooms[0]))
        self.stranger = bearer(issue(other.emails[0], "agent", person_id=other.people[0]))


@pytest.fixture(scope="module")
def world(booking_db_url, issue):
    place = make_place(booking_db_url, desks=6, rooms=2, people=3)
    other = make_place(booking_db_url, desks=2, rooms=1, people=1)
    return place, other, Callers(issue, place, other)


def book(api: httpx.Client, headers: dict, body: dict) -> dict:
    answer = api.post("/api/v1/bookings", json=body, headers=headers)
    assert answer.status_code == 201, answer.text
    return answer.json()


@pytest.mark.integration
def test_an_agent_neither_reads_nor_cancels_another_agents_booking(signin_gateway, world):
    place, _other, who = world
    with httpx.Client(base_url=signin_gateway.url, timeout=15) as api:
        mine = book(api, who.agent, {"resource_id": place.desks[0], "date": day(4),
                                     "period": "day", "title": "Entretien annuel"})
        theirs = api.get(f"/api/v1/bookings/{mine['id']}", headers=who.colleague)
        assert theirs.status_code == 200  # the desk is taken, and when: nothing more
        assert "person_id" not in theirs.json() and "title" not in theirs.json()
        assert api.get(f"/api/v1/bookings/{mine['id']}", headers=who.agent).json()["title"] == \
            "Entretien annuel"
        assert api.delete(f"/api/v1/bookings/{mine['id']}", headers=who.colleague).status_code == 403
        assert api.post(f"/api/v1/bookings/{mine['id']}/check-in",
                        headers=who.colleague).status_code == 403
        assert api.post("/api/v1/bookings", headers=who.agent, json={
            "resource_id": place.desks[1], "date": day(4), "person_id": place.people[1]}
        ).status_code == 403
        assert api.get(f"/api/v1/bookings/{mine['id']}", headers=who.agent).json()["status"] == "confirmed"


@pytest.mark.integration
def test_a_site_admin_manages_their_site_and_nothing_else(signin_gateway, world):
    place, other, who = world
    with httpx.Client(base_url=signin_gateway.url, timeout=15) as api:
        own = api.patch(f"/api/v1/resources/{place.desks[5]}", json={"name": "Bureau fenêtre"},
                        headers=who.site_admin)
        assert own.status_code == 200, own.text
        assert api.patch(f"/api/v1/resources/{other.desks[0]}", json={"name": "Pris"},
                         headers=who.site_admin).status_code == 403
        assert api.delete(f"/api/v1/resources/{other.desks[1]}",
                          headers=who.site_admin).status_code == 403
        assert api.post("/api/v1/buildings", json={"site_id": other.site_id, "code": "X",
                                                   "name": "Annexe"},
                        headers=who.site_admin).status_code == 403
        rules = api.get(f"/api/v1/sites/{other.site_id}/rules", headers=who.site_admin)
        assert rules.status_code == 200  # reading is fine; changing is not
        desk_rules = {"max_days_ahead": 30, "max_recurring_days_ahead": 182,
                      "max_duration_minutes": 1440, "checkin_opens_minutes_before": 15,
                      "release_after_minutes": 30}
        assert api.put(f"/api/v1/sites/{other.site_id}/rules/desk", json=desk_rules,
                       headers=who.site_admin).status_code == 403
        assert api.put(f"/api/v1/sites/{place.site_id}/rules/desk", json=desk_rules,
                       headers=who.site_admin).status_code == 200
        # Another site's booking: neither seen whole nor cancelled.
        far = book(api, who.stranger, {"resource_id": other.desks[0], "date": day(5)})
        seen = api.get(f"/api/v1/bookings/{far['id']}", headers=who.site_admin).json()
        assert "person_id" not in seen
        assert api.delete(f"/api/v1/bookings/{far['id']}", headers=who.site_admin).status_code == 403
        # A booking of their own site: they manage it.
        near = book(api, who.colleague, {"resource_id": place.desks[2], "date": day(5)})
        assert api.get(f"/api/v1/bookings/{near['id']}", headers=who.site_admin).json()[
            "person_id"] == place.people[1]
        assert api.delete(f"/api/v1/bookings/{near['id']}", headers=who.site_admin).status_code == 200
        assert api.post("/api/v1/sites", json={"code": "NOPE", "name": "Non"},
                        headers=who.site_admin).status_code == 403


@pytest.mark.integration
def test_a_device_cannot_leave_its_room(signin_gateway, world):
    place, _other, who = world
    with httpx.Client(base_url=signin_gateway.url, timeout=15) as api:
        here = book(api, who.agent, {"resource_id": place.rooms[0], **slot(5), "title": "Point"})
        there = book(api, who.colleague, {"resource_id": place.rooms[1], **slot(5), "title": "Autre"})
        room = api.get("/api/v1/display/room", headers=who.device)
        assert room.status_code == 200 and room.json()["room_id"] == place.rooms[0]
        elsewhere = api.post("/api/v1/display/check-in", json={"booking_id": there["id"]},
                             headers=who.device)
        assert elsewhere.status_code in (403, 404), elsewhere.text
        assert api.post("/api/v1/display/end", json={"booking_id": there["id"]},
                        headers=who.device).status_code in (403, 404)
        assert api.get(f"/api/v1/bookings/{there['id']}", headers=who.colleague).json()[
            "status"] == "confirmed"
        assert api.post("/api/v1/bookings", json={"resource_id": place.rooms[1], **slot(60)},
                        headers=who.device).status_code == 403
        assert api.get("/api/v1/people", params={"q": "Agent"}, headers=who.device).status_code == 403
        at_door = api.post("/api/v1/display/check-in", json={"booking_id": here["id"]},
                           headers=who.device)
        assert at_door.status_code == 200, at_door.text

    async def topics():
        async with aiohttp.ClientSession(headers=who.device) as session:
            ws = await session.ws_connect(f"{signin_gateway.url}/api/v1/live")
            await ws.receive_json(timeout=10)
            await ws.send_json({"op": "subscribe", "topics": [f"resource:{place.rooms[0]}",
                                                              f"resource:{place.rooms[1]}",
                                                              f"site:{place.site_id}"]})
            answer = await ws.receive_json(timeout=10)
            await ws.close()
            return answer

    answer = asyncio.run(topics())
    assert answer["topics"] == [f"resource:{place.rooms[0]}"]
    assert sorted(answer["refused"]) == sorted([f"resource:{place.rooms[1]}", f"site:{place.site_id}"])


@pytest.mark.integration
def test_a_bot_reads_but_never_writes(signin_gateway, world):
    place, _other, who = world
    with httpx.Client(base_url=signin_gateway.url, timeout=15) as api:
        theirs = book(api, who.agent, {"resource_id": place.desks[3], "date": day(6)})
        assert api.get("/api/v1/people", params={"q": "Agent"}, headers=who.bot).status_code == 200
        assert api.get("/api/v1/availability", params={"floor_id": place.floor_id, "date": day(6)},
                       headers=who.bot).status_code == 200
        writes = [
            api.post("/api/v1/bookings", json={"resource_id": place.desks[4], "date": day(6)},
                     headers=who.bot),
            api.delete(f"/api/v1/bookings/{theirs['id']}", headers=who.bot),
            api.post(f"/api/v1/bookings/{theirs['id']}/check-in", headers=who.bot),
            api.patch(f"/api/v1/resources/{place.desks[4]}", json={"name": "Bot"}, headers=who.bot),
            api.put("/api/v1/me/privacy", json={"visibility": "nobody"}, headers=who.bot),
            api.post("/api/v1/sites", json={"code": "BOT", "name": "Bot"}, headers=who.bot),
        ]
        assert [w.status_code for w in writes] == [403] * len(writes), [w.text for w in writes]
        assert all(w.json()["error"] == "forbidden" for w in writes)
        assert api.get(f"/api/v1/bookings/{theirs['id']}", headers=who.bot).status_code == 403
        assert api.get(f"/api/v1/bookings/{theirs['id']}", headers=who.agent).json()[
            "status"] == "confirmed"


@pytest.mark.integration
def test_a_revoked_token_and_a_revoked_session_are_refused_at_once(signin_gateway, world, issue,
                                                                   gateway_db_url):
    place, _other, _who = world
    label = f"matrix-{uuid.uuid4().hex[:8]}"
    token = issue(place.emails[1], "agent", person_id=place.people[1], label=label)
    bearer = {"Authorization": f"Bearer {token}"}
    with demo_signin(signin_gateway.url, place.emails[1]) as browser, \
            httpx.Client(base_url=signin_gateway.url, timeout=10) as api:
        for _ in range(2):  # the second answers come from the gateway's memory
            assert api.get("/api/v1/me", headers=bearer).status_code == 200
            assert browser.get("/api/v1/me").status_code == 200
        token_id = next(t.id for t in list_tokens(gateway_db_url) if t.label == label)
        session_id = max((t for t in list_tokens(gateway_db_url, kind="session")
                          if t.email == place.emails[1] and t.revoked_at is None),
                         key=lambda t: t.created_at).id
        assert revoke_token(gateway_db_url, token_id) and revoke_token(gateway_db_url, session_id)
        deadline = time.monotonic() + 1.0
        while True:
            codes = (api.get("/api/v1/me", headers=bearer).status_code,
                     browser.get("/api/v1/me").status_code)
            if codes == (401, 401):
                break
            assert time.monotonic() < deadline, f"still accepted: {codes}"
            time.sleep(0.01)
