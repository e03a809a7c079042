"""Presence end to end: gateway (HTTP and WebSocket) -> presence service and its
Redis read model -> booking service, all real processes."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
import uuid
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import aiohttp
import httpx
import psycopg
import pytest

from tests.support.processes import gateway_process
from tests.support.servers import REDIS_URL

pytestmark = pytest.mark.e2e

PARIS = ZoneInfo("Europe/Paris")


def eventually(check, timeout=15.0, every=0.2):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(every)


def today() -> str:
    return datetime.now(PARIS).date().isoformat()


def slot_around_now(minutes=40):
    now = datetime.now(PARIS)
    if now.hour == 23 and now.minute >= 57:
        time.sleep((datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), PARIS) - now).total_seconds() + 1)
        now = datetime.now(PARIS)
    day_start = datetime.combine(now.date(), datetime.min.time(), PARIS)
    return max(now - timedelta(minutes=5), day_start), min(now + timedelta(minutes=minutes), day_start.replace(hour=23, minute=58))


@pytest.fixture
def people(place, issue, booking_db_url):
    """Three agents of one team, one agent of another team, an admin, a bot, a device."""
    with psycopg.connect(booking_db_url) as conn:
        org = conn.execute("SELECT organisation_id FROM person WHERE id = %s", (place.people[0],)).fetchone()[0]
        tag = uuid.uuid4().hex[:8]
        email = f"autre.{tag}@mairie-test.fr"
        outsider = str(conn.execute(
            "INSERT INTO person (organisation_id, email, given_name, family_name, display_name, department) "
            "VALUES (%s, %s, 'Océane', %s, %s, 'RH') RETURNING id",
            (org, email, f"Autre-Léger{tag}", f"Océane Autre-Léger{tag}")).fetchone()[0])
        conn.execute("INSERT INTO team_member (team_id, person_id) VALUES (%s, %s)", (place.other_team_id, outsider))
    bearer = lambda token: {"Authorization": f"Bearer {token}"}  # noqa: E731
    agents = [bearer(issue(e, "agent", person_id=p)) for p, e in zip(place.people, place.emails)]
    return {
        "ids": place.people, "agents": agents, "outsider_id": outsider, "outsider_tag": tag,
        "outsider": bearer(issue(email, "agent", person_id=outsider)),
        "admin": bearer(issue(f"admin.{uuid.uuid4().hex[:6]}@mairie-test.fr", "admin",
                              person_id=str(uuid.uuid4()))),
        "bot": bearer(issue("bot@mairie-test.fr", "bot")),
        "device": bearer(issue("tablette@mairie-test.fr", "device", room_id=place.rooms[0])),
        "tokens": {"agent0": agents[0]["Authorization"][7:], "agent1": agents[1]["Authorization"][7:],
                   "outsider": None},
    }


@pytest.fixture
def api(gateway, presence_service):
    with httpx.Client(base_url=f"{gateway.url}/api/v1", timeout=15) as client:
        yield client


def test_booking_a_desk_shows_me_there_and_cancelling_goes_back_to_my_plan(api, place, people):
    me, colleague = people["agents"][0], people["agents"][1]
    my_id = people["ids"][0]
    weekday = datetime.now(PARIS).isoweekday()
    assert api.put("/me/pattern", headers=me, json={"pattern": [
        {"weekday": weekday, "period": "day", "status": "remote"}]}).status_code == 200
    start, end = slot_around_now()
    booked = api.post("/bookings", headers=me, json={"resource_id": place.desks[0], "start": start.isoformat(),
                                                     "end": end.isoformat()})
    assert booked.status_code == 201, booked.text

    def at_the_desk():
        answer = api.get(f"/presence/{my_id}", headers=colleague)
        assert answer.status_code == 200, answer.text
        presence = answer.json()["presence"]
        assert (presence["status"], presence["signal"]) == ("on_site", "booking"), presence
        assert presence["place"]["resource_id"] == place.desks[0]
        return answer.json()

    answer = eventually(at_the_desk)
    assert answer["person"]["id"] == my_id and answer["presence"]["since"] and answer["presence"]["until"]
    roster = api.get("/presence", headers=colleague, params={"site": place.site_id, "date": today()}).json()
    mine = [p for p in roster["people"] if p["person"]["id"] == my_id]
    assert mine and mine[0]["desks"][0]["resource_id"] == place.desks[0]

    assert api.delete(f"/bookings/{booked.json()['id']}", headers=me).status_code == 200

    def back_to_the_plan():
        presence = api.get(f"/presence/{my_id}", headers=colleague).json()["presence"]
        assert (presence["status"], presence["signal"], presence["plan"]["source"]) == \
            ("remote", "day_plan", "pattern"), presence

    eventually(back_to_the_plan)


def test_a_week_plan_the_roster_with_a_team_and_days_ahead(api, place, people):
    me, my_id = people["agents"][1], people["ids"][1]
    first = datetime.now(PARIS).date() + timedelta(days=1)
    week = [{"date": (first + timedelta(days=i)).isoformat(), "period": "day",
             "status": "on_site" if i % 2 == 0 else "remote", "site_id": place.site_id if i % 2 == 0 else None}
            for i in range(7)]
    put = api.put("/me/plan", headers=me, json={"days": week})
    assert put.status_code == 200, put.text
    assert [d["am"]["status"] for d in put.json()["days"]] == ["on_site", "remote"] * 3 + ["on_site"]
    got = api.get("/me/plan", headers=me, params={"start": first.isoformat(),
                                                 "end": (first + timedelta(days=6)).isoformat()}).json()
    assert got["days"] == put.json()["days"]

    def on_the_roster(team, expected):
        roster = api.get("/presence", headers=people["outsider"], params={
            "site": place.site_id, "date": first.isoformat(), **({"team": team} if team else {})})
        assert roster.status_code == 200, roster.text
        assert (my_id in [p["person"]["id"] for p in roster.json()["people"]]) is expected

    eventually(lambda: on_the_roster(None, True))
    on_the_roster(place.team_id, True)
    on_the_roster(place.other_team_id, False)
    far = (datetime.now(PARIS).date() + timedelta(days=40)).isoformat()  # beyond the read model: the service
    api.put("/me/plan", headers=me, json={"days": [{"date": far, "status": "on_site", "site_id": place.site_id}]})
    roster = api.get("/presence", headers=me, params={"site": place.site_id, "date": far}).json()
    assert my_id in [p["person"]["id"] for p in roster["people"]]


def test_temporary_status_and_privacy(api, place, people):
    me, my_id = people["agents"][2], people["ids"][2]
    until = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    set_ = api.put("/me/status", headers=me, json={"kind": "in_meeting", "until": until, "label": "Réunion budget"})
    assert set_.status_code == 200, set_.text
    assert set_.json()["presence"]["status"] == "in_meeting"
    seen = lambda who: api.get(f"/presence/{my_id}", headers=people[who] if isinstance(who, str) else who)  # noqa: E731
    eventually(lambda: _status_is(seen("outsider"), "in_meeting"))
    assert seen("outsider").json()["presence"]["label"] == "Réunion budget"

    assert api.put("/me/privacy", headers=me, json={"visibility": "teams"}).json()["visibility"] == "teams"
    assert api.get("/me/privacy", headers=me).json() == {"person_id": my_id, "visibility": "teams"}
    eventually(lambda: _status_is(seen("outsider"), "not_available"))
    hidden = seen("outsider").json()["presence"]
    assert hidden["label"] is None and hidden["since"] is None and hidden["place"] is None
    assert seen(people["agents"][0]).json()["presence"]["status"] == "in_meeting"  # same team
    assert seen("admin").json()["presence"]["status"] == "not_available"  # an admin sees no more
    assert seen("bot").json()["presence"]["status"] == "not_available"   # a bot asks for no one here

    assert api.delete("/me/status", headers=me).json()["presence"]["status"] != "in_meeting"
    api.put("/me/privacy", headers=me, json={"visibility": "everyone"})


def _status_is(response, status):
    assert response.status_code == 200, response.text
    assert response.json()["presence"]["status"] == status, response.json()


def memory_reads(gateway) -> float:
    for line in httpx.get(f"{gateway.url}/metrics").text.splitlines():
        if line.startswith('escale_gateway_presence_reads_total{source="memory"}'):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_search_and_contacts(api, gateway, place, people):
    me, my_id = people["agents"][0], people["ids"][0]

    def answered_from_memory():  # the gateway now holds this person's entry in memory
        before = memory_reads(gateway)
        _status_is(api.get(f"/presence/{my_id}", headers=people["agents"][1]), "unknown")
        assert memory_reads(gateway) > before

    eventually(answered_from_memory)
    contact = api.put("/me/contact", headers=me, json={
        "softphone": "sip:agent0@mairie-test.fr", "chat_handle": "@agent0:mairie-test.fr",
        "preferred_channel": "chat"})
    assert contact.status_code == 200, contact.text
    assert contact.json()["softphone"] == "sip:agent0@mairie-test.fr"
    # read before the change (now in the gateway's memory), shown changed right after
    def new_channels():
        reach = api.get(f"/presence/{my_id}", headers=people["agents"][1]).json()["presence"]["reach"]
        assert reach[0] == {"channel": "chat", "value": "@agent0:mairie-test.fr",
                            "href": "https://matrix.to/#/@agent0:mairie-test.fr"}
        return reach

    reach = eventually(new_channels, timeout=5)
    assert {"channel": "softphone", "value": "sip:agent0@mairie-test.fr",
            "href": "sip:agent0@mairie-test.fr"} in reach

    def found():
        result = api.get("/presence/search", headers=people["bot"],
                         params={"q": f"OCEANE leger{people['outsider_tag']}"})
        assert result.status_code == 200, result.text
        matches = result.json()["matches"]
        assert matches and matches[0]["person"]["id"] == people["outsider_id"], matches
        return matches[0]

    match = eventually(found)
    assert match["person"]["department"] == "RH" and "presence" in match and match["score"] > 0.9


def test_bad_input_and_roles_get_clear_errors(api, place, people):
    me = people["agents"][0]
    cases = [
        (api.put("/me/plan", headers=me, json={"days": [{"date": today(), "status": "on_site"}]}),
         422, "invalid"),
        (api.put("/me/plan", headers=me, json={"days": [{"date": today(), "status": "asleep"}]}), 422, "invalid"),
        (api.put("/me/status", headers=me, json={"kind": "away", "until": "2020-01-01T10:00:00+01:00"}),
         422, "invalid"),
        (api.put("/me/privacy", headers=me, json={"visibility": "friends"}), 422, "invalid"),
        (api.get(f"/presence/{uuid.uuid4()}", headers=me), 404, "not_found"),
        (api.get("/presence/not-an-id", headers=me), 404, "not_found"),
        (api.get("/presence", headers=me, params={"date": "2020-01-01"}), 422, "invalid"),
        (api.put("/me/plan", headers=people["bot"], json={"days": [{"date": today(), "status": "remote"}]}),
         403, "forbidden"),
        (api.get(f"/presence/{people['ids'][1]}", headers=people["device"]), 403, "forbidden"),
        (api.get("/presence/search", headers=me, params={"q": ""}), 422, "invalid"),
        (api.get(f"/presence/{people['ids'][1]}"), 401, "unauthorized"),
    ]
    for response, status, code in cases:
        assert response.status_code == status, response.text
        assert response.json()["error"] == code and response.json()["message"]
    english = api.put("/me/status", headers={**me, "Accept-Language": "en"},
                      json={"kind": "away", "until": (datetime.now(timezone.utc) + timedelta(hours=20)).isoformat()})
    assert english.status_code == 422 and "hours ahead" in english.json()["message"]
    french = api.put("/me/status", headers=me,
                     json={"kind": "away", "until": (datetime.now(timezone.utc) + timedelta(hours=20)).isoformat()})
    assert "heures" in french.json()["message"] and french.json()["field"] == "until"


async def _receive(ws, wanted, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        message = await asyncio.wait_for(ws.receive(), max(0.1, deadline - time.monotonic()))
        if message.type != aiohttp.WSMsgType.TEXT:
            raise AssertionError(f"socket closed: {message}")
        data = json.loads(message.data)
        if wanted(data):
            return data


async def test_live_updates_follow_privacy(gateway, presence_service, place, people):
    subject, subject_id = people["agents"][0], people["ids"][0]
    url = f"{gateway.url}/api/v1/live"
    async with aiohttp.ClientSession() as session:
        same_team = await session.ws_connect(url, headers=people["agents"][1])
        outsider = await session.ws_connect(f"{url}?token={people['outsider']['Authorization'][7:]}",
                                            headers={"Origin": gateway.url})
        for ws in (same_team, outsider):
            await _receive(ws, lambda m: m["type"] == "welcome")
            await ws.send_json({"op": "subscribe", "topics": [f"person:{subject_id}", "site:nope"]})
            ack = await _receive(ws, lambda m: m["type"] == "subscribed")
            assert ack["topics"] == [f"person:{subject_id}"] and ack["refused"] == ["site:nope"]
        async with httpx.AsyncClient(base_url=f"{gateway.url}/api/v1", timeout=15) as api:
            assert (await api.put("/me/privacy", headers=subject, json={"visibility": "teams"})).status_code == 200
            until = (datetime.now(timezone.utc) + timedelta(minutes=30)).isoformat()
            assert (await api.put("/me/status", headers=subject,
                                  json={"kind": "do_not_disturb", "until": until})).status_code == 200
        event = await _receive(same_team, lambda m: m["type"] == "presence.changed" and m["cause"] == "status")
        assert event["person_id"] == subject_id and event["presence"]["status"] == "do_not_disturb"
        assert event["topic"] == f"person:{subject_id}" and "reach" not in event["presence"]
        await outsider.send_json({"op": "ping"})
        pong = await _receive(outsider, lambda m: m["type"] in ("pong", "presence.changed"))
        assert pong["type"] == "pong"  # the change was never sent to someone outside the team
        await same_team.close()
        await outsider.close()
        async with httpx.AsyncClient(base_url=f"{gateway.url}/api/v1", timeout=15) as api:
            await api.delete("/me/status", headers=subject)
            await api.put("/me/privacy", headers=subject, json={"visibility": "everyone"})


async def test_live_refuses_bad_origins_and_tokens_and_closes_cleanly_on_shutdown(
        amqp_uri, gateway_db_url, presence_redis_prefix, people, gateway):
    async with aiohttp.ClientSession() as session:
        for headers, status in (({"Origin": "https://evil.example"}, 403), ({}, 401),
                                ({"Authorization": "Bearer esc_nope"}, 401), (people["bot"], 403)):
            if headers.get("Origin"):
                headers = {**headers, **people["agents"][0]}
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await session.ws_connect(f"{gateway.url}/api/v1/live", headers=headers)
            assert refused.value.status == status
    own = gateway_process(amqp_uri, gateway_db_url, ESCALE_REDIS_URL=REDIS_URL,
                          ESCALE_PRESENCE_REDIS_PREFIX=presence_redis_prefix).start()
    try:
        async with aiohttp.ClientSession() as session:
            ws = await session.ws_connect(f"{own.url}/api/v1/live", headers=people["agents"][0])
            await _receive(ws, lambda m: m["type"] == "welcome")
            os.killpg(own.proc.pid, signal.SIGTERM)  # what an orchestrator sends
            closing = await asyncio.wait_for(ws.receive(), 10)
            assert closing.type == aiohttp.WSMsgType.CLOSE and closing.data == 1001
            assert closing.extra == "server shutdown"
    finally:
        own.stop()
