"""Bearer tokens and roles, as a caller sees them."""

from __future__ import annotations

import asyncio

import pytest

from gateway.keys import TOKENS_KEY
from gateway.adapters.tokens import issue_token, list_tokens, revoke_token

pytestmark = pytest.mark.integration


async def assert_401(response, lang="fr"):
    assert response.status == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    body = await response.json()
    assert body["error"] == "unauthorized"
    assert body["message"]
    return body


async def test_missing_token_is_refused_with_a_french_message(client, booking):
    body = await assert_401(await client.get("/api/v1/sites"))
    assert "Authorization" in body["message"] and "jeton" in body["message"]
    assert booking.work == []


async def test_english_message_on_request(client):
    body = await assert_401(await client.get("/api/v1/sites", headers={"Accept-Language": "en"}))
    assert "Authentication required" in body["message"]


@pytest.mark.parametrize("header", [
    "Bearer esc_thisisnotarealtokenatallxxxxxxxxxxxxxxxxxxxxx",
    "Bearer nonsense",
    "Basic dXNlcjpwYXNz",
    "Bearer ",
])
async def test_unknown_or_malformed_token(client, header):
    await assert_401(await client.get("/api/v1/sites", headers={"Authorization": header}))


async def test_revoked_and_expired_tokens(client, tokens):
    await assert_401(await client.get("/api/v1/sites", headers=tokens.auth("revoked")))
    await assert_401(await client.get("/api/v1/sites", headers=tokens.auth("expired")))


async def test_revocation_takes_effect_at_once(client, gateway_db_url):
    token = issue_token(gateway_db_url, email="temp@example.org", role="agent", label="temp")
    headers = {"Authorization": f"Bearer {token}"}
    store = client.app[TOKENS_KEY]
    for _ in range(50):  # the change listener connects in the background
        if store.caching:
            break
        await asyncio.sleep(0.05)
    assert store.caching
    # Twice: the second answer comes from the gateway's memory.
    assert (await client.get("/api/v1/sites", headers=headers)).status == 200
    assert (await client.get("/api/v1/sites", headers=headers)).status == 200
    token_id = next(t.id for t in list_tokens(gateway_db_url) if t.label == "temp")
    assert revoke_token(gateway_db_url, token_id)
    # The database notifies every gateway on commit: refused well within a second.
    deadline = asyncio.get_running_loop().time() + 1.0
    while (answer := await client.get("/api/v1/sites", headers=headers)).status != 401:
        assert asyncio.get_running_loop().time() < deadline, "revoked token still accepted"
        await asyncio.sleep(0.01)
    await assert_401(answer)


async def test_bot_reads_but_cannot_write(client, tokens, booking):
    assert (await client.get("/api/v1/people?q=dur", headers=tokens.auth("bot"))).status == 200
    assert (await client.get("/api/v1/resources", headers=tokens.auth("bot"))).status == 200
    r = await client.get(f"/api/v1/availability?floor_id={booking.FLOOR_ID}&date=2026-03-10",
                         headers=tokens.auth("bot"))
    assert r.status == 200
    r = await client.post("/api/v1/bookings", headers=tokens.auth("bot"),
                          json={"resource_id": booking.DESK_ID, "date": "2026-03-10"})
    assert r.status == 403
    body = await r.json()
    assert body["error"] == "forbidden" and "bot" in body["message"]
    assert (await client.get("/api/v1/bookings", headers=tokens.auth("bot"))).status == 403
    assert booking.calls_to("create_booking") == []


async def test_device_only_reads_resources(client, tokens, booking):
    r = await client.get(f"/api/v1/resources/{booking.DESK_ID}", headers=tokens.auth("device"))
    assert r.status == 200
    r = await client.get("/api/v1/people?q=x", headers=tokens.auth("device"))
    assert r.status == 403


async def test_site_admin_is_confined_to_their_sites(client, tokens, booking):
    rules = {"max_days_ahead": 30, "max_recurring_days_ahead": 90, "max_duration_minutes": 600,
             "checkin_opens_minutes_before": 15, "release_after_minutes": 30}
    sa = tokens.auth("site_admin")
    r = await client.put(f"/api/v1/sites/{booking.SITE_ID}/rules/desk", json=rules, headers=sa)
    assert r.status == 200
    r = await client.put(f"/api/v1/sites/{booking.OTHER_SITE_ID}/rules/desk", json=rules,
                         headers=sa)
    assert r.status == 403
    assert (await r.json())["error"] == "forbidden"
    r = await client.patch(f"/api/v1/resources/{booking.OTHER_DESK_ID}", json={"name": "X"},
                           headers=sa)
    assert r.status == 403
    r = await client.patch(f"/api/v1/resources/{booking.DESK_ID}", json={"name": "Bureau 1"},
                           headers=sa)
    assert r.status == 200
    r = await client.post("/api/v1/buildings", headers=sa, json={
        "site_id": booking.OTHER_SITE_ID, "code": "B", "name": "Annexe"})
    assert r.status == 403
    r = await client.post("/api/v1/sites", headers=sa, json={"code": "NEW", "name": "Nouveau"})
    assert r.status == 403
    r = await client.post("/api/v1/imports/people", headers={**sa, "Content-Type": "text/csv"},
                          data="email\n")
    assert r.status == 403
    # only the allowed calls reached the service
    assert [c.method for c in booking.calls if c.method.endswith(("_entity", "_rules"))] == \
        ["set_rules", "update_entity"]


async def test_agent_cannot_administer(client, tokens, booking):
    r = await client.delete(f"/api/v1/resources/{booking.DESK_ID}", headers=tokens.auth("agent"))
    assert r.status == 403


async def test_agent_cannot_book_for_someone_else(client, tokens, booking):
    r = await client.post("/api/v1/bookings", headers=tokens.auth("agent"), json={
        "resource_id": booking.DESK_ID, "date": "2026-03-10",
        "person_id": booking.EMAIL_PERSON_ID})
    assert r.status == 403
    r = await client.post("/api/v1/bookings", headers=tokens.auth("admin"), json={
        "resource_id": booking.DESK_ID, "date": "2026-03-10",
        "person_id": booking.EMAIL_PERSON_ID})
    assert r.status == 201
    assert (await r.json())["person_id"] == booking.EMAIL_PERSON_ID


async def test_the_actor_reaches_the_service(client, tokens, booking):
    r = await client.post("/api/v1/bookings", headers=tokens.auth("site_admin"),
                          json={"resource_id": booking.DESK_ID, "date": "2026-03-10"})
    assert r.status == 201
    (call,) = booking.calls_to("create_booking")
    assert call.kwargs["actor"] == {"person_id": booking.AGENT_PERSON_ID, "role": "site_admin",
                                    "site_ids": [booking.SITE_ID], "room_id": None}


async def test_token_linked_by_email(client, tokens, booking):
    for _ in range(3):
        r = await client.get("/api/v1/me", headers=tokens.auth("agent_by_email"))
        assert r.status == 200
    me = await r.json()
    assert me["actor"]["person_id"] == booking.EMAIL_PERSON_ID
    assert me["actor"]["role"] == "agent"
    assert len(booking.calls_to("get_person_by_email")) <= 1  # remembered


async def test_token_without_a_person(client, tokens, booking):
    r = await client.get("/api/v1/me", headers=tokens.auth("agent_unknown_email"))
    assert r.status == 200
    me = await r.json()
    assert me["actor"]["person_id"] is None and me["person"] is None
    r = await client.post("/api/v1/bookings", headers=tokens.auth("agent_unknown_email"),
                          json={"resource_id": booking.DESK_ID, "date": "2026-03-10"})
    assert r.status == 403
    assert (await r.json())["error"] == "forbidden"
    r = await client.get("/api/v1/bookings?mine=1", headers=tokens.auth("agent_unknown_email"))
    assert r.status == 403


async def test_me_with_person(client, tokens, booking):
    r = await client.get("/api/v1/me", headers=tokens.auth("agent"))
    me = await r.json()
    assert me["person"]["display_name"] == booking.PERSON["display_name"]
    assert me["actor"]["email"] == "agent@example.org"


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics", "/api/v1/openapi.json",
                                  "/api/v1/docs"])
async def test_public_endpoints_need_no_token(client, path):
    assert (await client.get(path)).status == 200
