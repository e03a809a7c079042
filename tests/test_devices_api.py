"""Door tablets through the real gateway: pairing, device scope, heartbeats,
the admin's list, and revocation taking effect at once."""

import asyncio
import json
import time
from datetime import datetime, timedelta, timezone


import aiohttp
import httpx
import psycopg
import pytest

from tests.support.clock import daytime_zone
from tests.support.data import make_place

pytestmark = pytest.mark.e2e


@pytest.fixture
def place(booking_db_url):
    """The rooms' meetings happen now and must be today's: a site where it is daytime."""
    return make_place(booking_db_url, timezone=daytime_zone())


@pytest.fixture
def admin(issue):
    return {"Authorization": f"Bearer {issue('admin@mairie-test.fr', 'admin')}"}


def pair(api, admin, room_id):
    """Start a pairing as a display would, pair it as the admin, collect the token."""
    started = api.post("/api/v1/display/pairings")
    assert started.status_code == 201, started.text
    code, claim = started.json()["code"], started.json()["claim"]
    paired = api.post("/api/v1/devices/pair", headers=admin,
                      json={"code": code.lower(), "room_id": room_id, "label": "Porte 1"})
    assert paired.status_code == 201, paired.text
    token = api.post("/api/v1/display/pairings/claim", json={"code": code, "claim": claim}).json()
    assert token["status"] == "paired"
    return paired.json(), {"Authorization": f"Bearer {token['token']}"}


def test_a_display_is_paired_with_a_room_and_collects_its_token_once(gateway, place, admin, issue):
    agent = {"Authorization": f"Bearer {issue(place.emails[0], 'agent', person_id=place.people[0])}"}
    with httpx.Client(base_url=gateway.url, timeout=10) as api:
        started = api.post("/api/v1/display/pairings").json()
        code, claim = started["code"], started["claim"]
        assert len(code) == 6 and code.isalnum() and code.isupper()
        waiting = api.post("/api/v1/display/pairings/claim", json={"code": code, "claim": claim})
        assert waiting.json() == {"status": "waiting"}
        wrong = api.post("/api/v1/display/pairings/claim", json={"code": code, "claim": "x" * 43},
                         headers={"Accept-Language": "en"})
        assert wrong.status_code == 404 and wrong.json()["message"] == "Unknown or expired pairing code."

        body = {"code": code, "room_id": place.rooms[0]}
        assert api.post("/api/v1/devices/pair", json=body, headers=agent).status_code == 403
        desk = api.post("/api/v1/devices/pair", headers=admin,
                        json={"code": code, "room_id": place.desks[0]})
        assert desk.status_code == 422 and desk.json()["error"] == "invalid"
        device = api.post("/api/v1/devices/pair", json=body, headers=admin)
        assert device.status_code == 201, device.text
        assert device.json()["room_id"] == place.rooms[0]
        again = api.post("/api/v1/devices/pair", json=body, headers=admin)
        assert again.status_code == 404 and again.json()["error"] == "not_found"

        token = api.post("/api/v1/display/pairings/claim", json={"code": code, "claim": claim}).json()
        assert token["status"] == "paired" and token["token"].startswith("esc_")
        # Handed out once: the pairing is gone.
        assert api.post("/api/v1/display/pairings/claim",
                        json={"code": code, "claim": claim}).status_code == 404
        me = api.get("/api/v1/me", headers={"Authorization": f"Bearer {token['token']}"})
        assert me.status_code == 200 and me.json()["actor"]["role"] == "device"
        assert me.json()["actor"]["room_id"] == place.rooms[0] and me.json()["person"] is None

        assert api.post("/api/v1/devices/pair", headers=admin,
                        json={"code": "ZZZZZZ", "room_id": place.rooms[0]}).status_code == 404


def test_a_device_sees_its_own_room_only_and_stops_at_once_when_revoked(gateway, booking_db_url, place,
                                                                       admin, issue):
    other = make_place(booking_db_url, desks=1, rooms=1, people=1)
    agent = {"Authorization": f"Bearer {issue(place.emails[0], 'agent', person_id=place.people[0])}"}
    with httpx.Client(base_url=gateway.url, timeout=10) as api:
        device, tablet = pair(api, admin, place.rooms[0])

        start = (datetime.now(timezone.utc) + timedelta(minutes=5)).replace(second=0, microsecond=0)
        booked = api.post("/api/v1/bookings", headers=agent, json={
            "resource_id": place.rooms[0], "start": start.isoformat(),
            "end": (start + timedelta(minutes=30)).isoformat(), "title": "Comité de pilotage"})
        room = api.get("/api/v1/display/room", headers=tablet)
        assert room.status_code == 200, room.text
        assert room.json()["room_id"] == place.rooms[0] and room.json()["name"]
        assert booked.status_code == 201, booked.text
        shown = {m["id"]: m for m in room.json()["meetings"]}
        assert shown[booked.json()["id"]]["status"] == "confirmed"
        assert "person_id" not in shown[booked.json()["id"]]
        assert shown[booked.json()["id"]]["title"] == "Comité de pilotage"
        assert room.json()["language"] == "fr" and room.json()["private"] is False
        # A room that hides details: the display shows "Réservé" only; and speaks English.
        patched = api.patch(f"/api/v1/resources/{place.rooms[0]}", headers=admin,
                            json={"attributes": {"private": True, "language": "en"}})
        assert patched.status_code == 200, patched.text
        hidden = api.get("/api/v1/display/room", headers=tablet).json()
        assert hidden["private"] is True and hidden["language"] == "en"
        assert all(m["title"] is None for m in hidden["meetings"])

        # The room comes from the token: a device has no way to name another one.
        asked = api.get("/api/v1/display/room", headers=tablet, params={"room_id": other.rooms[0]})
        assert asked.json()["room_id"] == place.rooms[0]
        # People, bookings, admin: none of a device's business.
        for method, path in [("GET", "/api/v1/people?q=a"), ("GET", "/api/v1/bookings"),
                             ("GET", "/api/v1/devices"), ("POST", "/api/v1/bookings"),
                             ("DELETE", f"/api/v1/devices/{device['id']}")]:
            answer = api.request(method, path, headers=tablet, json={} if method == "POST" else None)
            assert answer.status_code in (403, 422), (method, path, answer.status_code)
            if answer.status_code == 422:  # the body is checked before the role for POSTs
                assert method == "POST"

        assert api.post("/api/v1/display/heartbeat", headers=tablet).status_code == 204
        listed = {d["id"]: d for d in api.get("/api/v1/devices", headers=admin).json()}
        assert listed[device["id"]]["online"] is True
        assert listed[device["id"]]["room_id"] == place.rooms[0]
        assert listed[device["id"]]["last_heartbeat_at"]

        assert api.delete(f"/api/v1/devices/{device['id']}", headers=admin).status_code == 204
        deadline = time.monotonic() + 2
        while api.get("/api/v1/display/room", headers=tablet).status_code != 401:
            assert time.monotonic() < deadline, "a revoked device still works"
            time.sleep(0.05)
        assert api.post("/api/v1/display/heartbeat", headers=tablet).status_code == 401
        assert device["id"] not in {d["id"] for d in api.get("/api/v1/devices", headers=admin).json()}
        assert api.delete(f"/api/v1/devices/{device['id']}", headers=admin).status_code == 404


def test_an_agent_token_is_not_a_device(gateway, place, issue, admin):
    agent = {"Authorization": f"Bearer {issue(place.emails[0], 'agent', person_id=place.people[0])}"}
    with httpx.Client(base_url=gateway.url, timeout=10) as api:
        assert api.get("/api/v1/display/room", headers=agent).status_code == 403
        assert api.post("/api/v1/display/heartbeat", headers=agent).status_code == 403
        assert api.get("/api/v1/devices", headers=agent).status_code == 403


def test_the_rooms_tablet_checks_in_and_ends_early_recorded_with_its_id(gateway, booking_db_url, place,
                                                                        admin, issue):
    other = make_place(booking_db_url, desks=1, rooms=1, people=1)
    agent = {"Authorization": f"Bearer {issue(place.emails[0], 'agent', person_id=place.people[0])}"}
    with httpx.Client(base_url=gateway.url, timeout=10) as api:
        device, tablet = pair(api, admin, place.rooms[0])
        _, elsewhere = pair(api, admin, other.rooms[0])
        start = datetime.now(timezone.utc) - timedelta(minutes=5)
        booked = api.post("/api/v1/bookings", headers=agent, json={
            "resource_id": place.rooms[0], "start": start.isoformat(),
            "end": (start + timedelta(minutes=30)).isoformat()})
        assert booked.status_code == 201, booked.text
        body = {"booking_id": booked.json()["id"]}

        refused = api.post("/api/v1/display/check-in", headers=elsewhere, json=body)
        assert refused.status_code == 403 and refused.json()["error"] == "forbidden"
        assert api.post("/api/v1/display/end", headers=elsewhere, json=body).status_code == 403

        checked = api.post("/api/v1/display/check-in", headers=tablet, json=body)
        assert checked.status_code == 200, checked.text
        assert checked.json()["status"] == "checked_in" and "person_id" not in checked.json()
        longer = api.post("/api/v1/display/extend", headers=tablet, json={**body, "minutes": 15})
        assert longer.status_code == 200, longer.text
        assert datetime.fromisoformat(longer.json()["end"]) == start + timedelta(minutes=45)
        odd = api.post("/api/v1/display/extend", headers=tablet, json={**body, "minutes": 20})
        assert odd.status_code == 422 and odd.json()["field"] == "minutes"
        assert api.post("/api/v1/display/extend", headers=elsewhere,
                        json={**body, "minutes": 15}).status_code == 403
        ended = api.post("/api/v1/display/end", headers=tablet, json=body)
        assert ended.status_code == 200 and ended.json()["status"] == "ended"
        again = api.post("/api/v1/display/end", headers=tablet, json=body)
        assert again.status_code == 409 and again.json()["error"] == "invalid_state"
        assert body["booking_id"] not in {m["id"] for m in
                                          api.get("/api/v1/display/room", headers=tablet).json()["meetings"]}
        assert api.get(f"/api/v1/bookings/{body['booking_id']}", headers=agent).json()["status"] == "ended"

    with psycopg.connect(booking_db_url) as conn:
        recorded = conn.execute("SELECT device_id::text, action FROM device_action WHERE booking_id = %s "
                                "ORDER BY id", (body["booking_id"],)).fetchall()
    assert recorded == [(device["id"], "check_in"), (device["id"], "extend"), (device["id"], "end")]


async def _receive(ws, wanted, timeout=2.0):
    """The first message ``wanted`` accepts, within ``timeout`` seconds."""
    async with asyncio.timeout(timeout):
        while True:
            message = await ws.receive()
            assert message.type == aiohttp.WSMsgType.TEXT, message
            data = json.loads(message.data)
            if wanted(data):
                return data


async def test_a_tablet_follows_its_room_live_and_a_booking_reaches_it_within_2_s(
        gateway, booking_db_url, place, admin, issue):
    other = make_place(booking_db_url, desks=1, rooms=1, people=1)
    agent = {"Authorization": f"Bearer {issue(place.emails[0], 'agent', person_id=place.people[0])}"}
    with httpx.Client(base_url=gateway.url, timeout=10) as api:
        _, tablet = pair(api, admin, place.rooms[0])
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(f"{gateway.url}/api/v1/live", headers=tablet)
        await _receive(ws, lambda m: m["type"] == "welcome")
        await ws.send_json({"op": "subscribe", "topics": [f"resource:{place.rooms[0]}",
                                                          f"resource:{other.rooms[0]}",
                                                          f"site:{place.site_id}"]})
        ack = await _receive(ws, lambda m: m["type"] == "subscribed")
        assert ack["topics"] == [f"resource:{place.rooms[0]}"]
        assert sorted(ack["refused"]) == sorted([f"resource:{other.rooms[0]}", f"site:{place.site_id}"])

        start = (datetime.now(timezone.utc) + timedelta(hours=2)).replace(second=0, microsecond=0)
        async with httpx.AsyncClient(base_url=gateway.url, timeout=10) as api:
            elsewhere = await api.post("/api/v1/bookings", headers=agent, json={
                "resource_id": other.rooms[0], "start": start.isoformat(),
                "end": (start + timedelta(minutes=30)).isoformat()})
            assert elsewhere.status_code == 201, elsewhere.text
            booked = await api.post("/api/v1/bookings", headers=agent, json={
                "resource_id": place.rooms[0], "start": start.isoformat(),
                "end": (start + timedelta(minutes=30)).isoformat()})
            assert booked.status_code == 201, booked.text
        sent = time.monotonic()
        event = await _receive(ws, lambda m: m["type"] == "booking.created", timeout=2.0)
        assert time.monotonic() - sent < 2.0
        # Only its own room's booking, and without who holds it.
        assert event["booking"]["id"] == booked.json()["id"]
        assert "person_id" not in event["booking"] and "title" not in event["booking"]
        await ws.close()


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def test_a_tablet_books_its_own_room_now_never_past_the_next_meeting(gateway, booking_db_url, place,
                                                                     admin, issue):
    other = make_place(booking_db_url, desks=1, rooms=1, people=1)
    agent = {"Authorization": f"Bearer {issue(place.emails[0], 'agent', person_id=place.people[0])}"}
    with httpx.Client(base_url=gateway.url, timeout=10) as api:
        device, tablet = pair(api, admin, place.rooms[0])
        # The next meeting in 20 minutes: 15 fits, 30 and 60 do not.
        next_start = _minute(datetime.now(timezone.utc)) + timedelta(minutes=20)
        following = api.post("/api/v1/bookings", headers=agent, json={
            "resource_id": place.rooms[0], "start": next_start.isoformat(),
            "end": (next_start + timedelta(minutes=30)).isoformat(), "title": "Revue"})
        assert following.status_code == 201, following.text
        for minutes in (30, 60):
            refused = api.post("/api/v1/display/book-now", headers=tablet, json={"minutes": minutes})
            assert refused.status_code == 409, refused.text
            assert refused.json()["error"] == "resource_already_booked"
            assert refused.json()["conflict"]["id"] == following.json()["id"]

        # The body names neither a room nor a person, nor an odd duration.
        for body in ({"minutes": 15, "room_id": other.rooms[0]}, {"minutes": 15, "person_id": place.people[1]},
                     {"minutes": 20}, {}):
            answer = api.post("/api/v1/display/book-now", headers=tablet, json=body)
            assert answer.status_code == 422, (body, answer.text)
        # People book through the bookings API, not the door's.
        assert api.post("/api/v1/display/book-now", headers=agent, json={"minutes": 15}).status_code == 403

        booked = api.post("/api/v1/display/book-now", headers=tablet, json={"minutes": 15},
                          params={"room_id": other.rooms[0]})  # a query string changes nothing either
        assert booked.status_code == 201, booked.text
        walk_in = booked.json()
        assert walk_in["resource_id"] == place.rooms[0] and walk_in["walk_in"] is True
        assert walk_in["status"] == "checked_in" and "person_id" not in walk_in
        assert datetime.fromisoformat(walk_in["end"]) <= next_start
        again = api.post("/api/v1/display/book-now", headers=tablet, json={"minutes": 15})
        assert again.status_code == 409  # the room is taken now

        shown = {m["id"]: m for m in api.get("/api/v1/display/room", headers=tablet).json()["meetings"]}
        assert shown[walk_in["id"]]["walk_in"] is True and shown[walk_in["id"]]["organiser"] is None
        # Someone else sees a taken room, and nobody behind it.
        seen = api.get(f"/api/v1/bookings/{walk_in['id']}", headers=agent).json()
        assert seen["resource_id"] == place.rooms[0] and "person_id" not in seen
        assert api.get(f"/api/v1/bookings/{walk_in['id']}", headers=admin).json()["person_id"] is None

    with psycopg.connect(booking_db_url) as conn:
        recorded = conn.execute("SELECT device_id::text, action FROM device_action WHERE booking_id = %s",
                                (walk_in["id"],)).fetchall()
        row = conn.execute("SELECT person_id, source FROM booking WHERE id = %s", (walk_in["id"],)).fetchone()
    assert recorded == [(device["id"], "book")] and row == (None, "tablet")


def test_the_display_shows_the_organisers_name_unless_the_room_is_private(gateway, booking_db_url, place,
                                                                          admin, issue):
    agent = {"Authorization": f"Bearer {issue(place.emails[0], 'agent', person_id=place.people[0])}"}
    with psycopg.connect(booking_db_url) as conn:
        name = conn.execute("SELECT display_name FROM person WHERE id = %s", (place.people[0],)).fetchone()[0]
    with httpx.Client(base_url=gateway.url, timeout=10) as api:
        _, tablet = pair(api, admin, place.rooms[0])
        start = datetime.now(timezone.utc) - timedelta(minutes=1)
        booked = api.post("/api/v1/bookings", headers=agent, json={
            "resource_id": place.rooms[0], "start": start.isoformat(),
            "end": (start + timedelta(minutes=30)).isoformat(), "title": "Comité"})
        assert booked.status_code == 201, booked.text
        [meeting] = api.get("/api/v1/display/room", headers=tablet).json()["meetings"]
        assert (meeting["title"], meeting["organiser"], meeting["walk_in"]) == ("Comité", name, False)
        assert "person_id" not in meeting and "email" not in json.dumps(meeting)
        patched = api.patch(f"/api/v1/resources/{place.rooms[0]}", headers=admin,
                            json={"attributes": {"private": True}})
        assert patched.status_code == 200, patched.text
        [hidden] = api.get("/api/v1/display/room", headers=tablet).json()["meetings"]
        assert hidden["title"] is None and hidden["organiser"] is None


async def test_a_revoked_tablets_websocket_is_closed_at_once(gateway, place, admin):
    with httpx.Client(base_url=gateway.url, timeout=10) as api:
        device, tablet = pair(api, admin, place.rooms[0])
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(f"{gateway.url}/api/v1/live", headers=tablet)
        await _receive(ws, lambda m: m["type"] == "welcome")
        await ws.send_json({"op": "subscribe", "topics": [f"resource:{place.rooms[0]}"]})
        await _receive(ws, lambda m: m["type"] == "subscribed")
        async with httpx.AsyncClient(base_url=gateway.url, timeout=10) as api:
            assert (await api.delete(f"/api/v1/devices/{device['id']}", headers=admin)).status_code == 204
        revoked = time.monotonic()
        async with asyncio.timeout(2.0):  # not the hub's minute-long periodic check
            message = await ws.receive()
        assert message.type == aiohttp.WSMsgType.CLOSE and message.data == 4401, message
        assert time.monotonic() - revoked < 2.0


async def test_a_walk_in_reaches_the_rooms_tablet_live_without_an_owner(gateway, place, admin):
    with httpx.Client(base_url=gateway.url, timeout=10) as api:
        _, tablet = pair(api, admin, place.rooms[0])
    async with aiohttp.ClientSession() as session:
        # Asked for, compression is declined: one frame is written to every socket as is.
        ws = await session.ws_connect(f"{gateway.url}/api/v1/live", headers=tablet, compress=15)
        assert not ws.compress
        watcher = await session.ws_connect(f"{gateway.url}/api/v1/live", headers=admin)
        for socket, topic in ((ws, f"resource:{place.rooms[0]}"), (watcher, f"site:{place.site_id}")):
            await _receive(socket, lambda m: m["type"] == "welcome")
            await socket.send_json({"op": "subscribe", "topics": [topic]})
            await _receive(socket, lambda m: m["type"] == "subscribed")
        async with httpx.AsyncClient(base_url=gateway.url, timeout=10) as api:
            booked = await api.post("/api/v1/display/book-now", headers=tablet, json={"minutes": 15})
            assert booked.status_code == 201, booked.text
        for socket in (ws, watcher):
            event = await _receive(socket, lambda m: m["type"] == "booking.created")
            assert event["booking"]["id"] == booked.json()["id"] and "person_id" not in event["booking"]
        await ws.close()
        await watcher.close()
