"""Booking routes: what is sent to the service and what the caller gets back,
including domain errors mapped through the one table."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration

START = "2026-03-10T09:00:00+01:00"
END = "2026-03-10T12:00:00+01:00"
BOOKING_ID = "b0000000-0000-4000-8000-000000000001"


async def test_single_booking_is_201_with_the_booking(client, tokens, booking):
    r = await client.post("/api/v1/bookings", headers=tokens.auth("agent"), json={
        "resource_id": booking.DESK_ID, "start": START, "end": END, "title": "Dossiers"})
    assert r.status == 201
    body = await r.json()
    assert {"id", "status", "start", "end", "resource_id", "person_id"} <= set(body)
    assert body["status"] == "confirmed" and body["person_id"] == booking.AGENT_PERSON_ID
    assert r.headers["Location"] == f"/api/v1/bookings/{body['id']}"
    (call,) = booking.calls_to("create_booking")
    assert call.kwargs == {
        "actor": {"person_id": booking.AGENT_PERSON_ID, "role": "agent", "site_ids": [],
                  "room_id": None},
        "request": {"resource_id": booking.DESK_ID, "start": START, "end": END,
                    "title": "Dossiers"},
        "idempotency_key": None,
    }
    assert call.headers["nameko.language"] == "fr"


async def test_idempotency_key_and_language_reach_the_service(client, tokens, booking):
    r = await client.post("/api/v1/bookings", json={"resource_id": booking.DESK_ID,
                                                    "date": "2026-03-10", "period": "morning"},
                          headers=tokens.auth("agent", **{"Idempotency-Key": "retry-42",
                                                          "Accept-Language": "en-GB"}))
    assert r.status == 201
    (call,) = booking.calls_to("create_booking")
    assert call.kwargs["idempotency_key"] == "retry-42"
    assert call.kwargs["request"] == {"resource_id": booking.DESK_ID, "date": "2026-03-10",
                                      "period": "morning"}
    assert call.headers["nameko.language"] == "en"


async def test_series_is_201_with_booked_and_skipped(client, tokens, booking):
    series = {
        "series_id": "5e000000-0000-4000-8000-000000000001",
        "bookings": [{"id": BOOKING_ID, "status": "confirmed"}],
        "skipped": [{"start": START, "end": END, "reason": "public_holiday",
                     "message": "Jour férié."}],
    }
    booking.handlers["create_booking"] = lambda actor, request, idempotency_key=None: series
    r = await client.post("/api/v1/bookings", headers=tokens.auth("agent"), json={
        "resource_id": booking.DESK_ID, "date": "2026-03-10",
        "rrule": "FREQ=WEEKLY;BYDAY=TU;UNTIL=20260331"})
    assert r.status == 201
    assert await r.json() == series
    assert booking.calls_to("create_booking")[0].kwargs["request"]["rrule"] == \
        "FREQ=WEEKLY;BYDAY=TU;UNTIL=20260331"


async def test_conflict_is_409_with_the_clashing_booking(client, tokens, booking):
    clash = {"id": BOOKING_ID, "start": START, "end": END, "resource_id": booking.DESK_ID}

    def taken(**_):
        raise booking.DomainError("resource_already_booked", "Ce bureau est déjà réservé.",
                                  "ResourceAlreadyBooked", conflict=clash)

    booking.handlers["create_booking"] = taken
    r = await client.post("/api/v1/bookings", headers=tokens.auth("agent"), json={
        "resource_id": booking.DESK_ID, "start": START, "end": END})
    assert r.status == 409
    assert await r.json() == {"error": "resource_already_booked",
                              "message": "Ce bureau est déjà réservé.", "conflict": clash}


@pytest.mark.parametrize("code, exc_type, details, status", [
    ("invalid", "Invalid", {"field": "resource_id"}, 422),
    ("too_far_ahead", "TooFarAhead", {}, 422),
    ("in_the_past", "InThePast", {}, 422),
    ("public_holiday", "PublicHoliday", {}, 422),
    ("idempotency_key_reused", "IdempotencyKeyReused", {}, 422),
    ("restricted_resource", "RestrictedResource", {}, 403),
    ("forbidden", "Forbidden", {}, 403),
    ("not_found", "NotFound", {}, 404),
    ("person_already_has_desk", "PersonAlreadyHasDesk", {"conflict": {"id": BOOKING_ID}}, 409),
])
async def test_domain_errors_map_to_http(client, tokens, booking, code, exc_type, details,
                                         status):
    def fail(**_):
        raise booking.DomainError(code, f"message for {code}", exc_type, **details)

    booking.handlers["create_booking"] = fail
    r = await client.post("/api/v1/bookings", headers=tokens.auth("agent"), json={
        "resource_id": booking.DESK_ID, "date": "2026-03-10"})
    assert r.status == status
    assert await r.json() == {"error": code, "message": f"message for {code}", **details}


async def test_unexpected_remote_error_is_500_without_details(client, tokens, booking):
    def crash(**_):
        raise KeyError("database password is hunter2")

    booking.handlers["get_booking"] = crash
    r = await client.get(f"/api/v1/bookings/{BOOKING_ID}",
                         headers=tokens.auth("agent", **{"Accept-Language": "en"}))
    assert r.status == 500
    body = await r.json()
    assert body["error"] == "internal_error"
    assert body["message"].startswith("Internal error")
    text = await r.text()
    assert "hunter2" not in text and "Traceback" not in text and "KeyError" not in text


async def test_get_cancel_and_check_in(client, tokens, booking):
    agent = tokens.auth("agent")
    r = await client.get(f"/api/v1/bookings/{BOOKING_ID}", headers=agent)
    assert r.status == 200 and (await r.json())["id"] == BOOKING_ID
    assert booking.calls_to("get_booking")[0].kwargs["booking_id"] == BOOKING_ID

    booking.handlers["cancel_booking"] = lambda actor, booking_id, scope="this": {
        "cancelled": [{"id": booking_id, "status": "cancelled", "scope": scope}]}
    r = await client.delete(f"/api/v1/bookings/{BOOKING_ID}", headers=agent)
    assert r.status == 200
    assert (await r.json())["cancelled"][0]["status"] == "cancelled"
    r = await client.delete(f"/api/v1/bookings/{BOOKING_ID}?scope=following", headers=agent)
    assert [c.kwargs["scope"] for c in booking.calls_to("cancel_booking")] == ["this", "following"]

    r = await client.post(f"/api/v1/bookings/{BOOKING_ID}/check-in", headers=agent)
    assert r.status == 200 and (await r.json())["status"] == "checked_in"

    def not_open(**_):
        raise booking.DomainError("check_in_not_open", "Trop tôt.", "CheckInNotOpen")

    booking.handlers["check_in"] = not_open
    r = await client.post(f"/api/v1/bookings/{BOOKING_ID}/check-in", headers=agent)
    assert r.status == 422 and (await r.json())["error"] == "check_in_not_open"


async def test_list_mine_with_filters(client, tokens, booking):
    booking.handlers["list_bookings"] = lambda actor, **kw: [{"id": BOOKING_ID, **kw}]
    r = await client.get(
        f"/api/v1/bookings?mine=1&from=2026-03-01T00:00:00%2B01:00&to=2026-04-01T00:00:00Z"
        f"&status=confirmed&resource_id={booking.DESK_ID}", headers=tokens.auth("agent"))
    assert r.status == 200
    listed = await r.json()
    assert isinstance(listed, list) and listed[0]["id"] == BOOKING_ID
    (call,) = booking.calls_to("list_bookings")
    assert call.kwargs == {
        "actor": call.kwargs["actor"], "person_id": booking.AGENT_PERSON_ID,
        "start": "2026-03-01T00:00:00+01:00", "end": "2026-04-01T00:00:00+00:00",
        "status": "confirmed", "resource_id": booking.DESK_ID,
    }


async def test_catalogue_and_people_reads(client, tokens, booking):
    agent = tokens.auth("agent")
    r = await client.get(f"/api/v1/sites/{booking.SITE_ID}", headers=agent)
    assert (await r.json())["site"]["name"] == "Hôtel de ville"
    r = await client.get(f"/api/v1/sites/{booking.OTHER_SITE_ID}", headers=agent)
    assert r.status == 404 and (await r.json())["error"] == "not_found"
    r = await client.get(f"/api/v1/sites/{booking.SITE_ID}/rules", headers=agent)
    assert (await r.json())["desk"]["max_days_ahead"] == 30
    r = await client.get(f"/api/v1/resources?floor_id={booking.FLOOR_ID}&kind=desk", headers=agent)
    assert [d["id"] for d in await r.json()] == [booking.DESK_ID]
    assert booking.calls_to("list_resources")[0].kwargs == {"floor_id": booking.FLOOR_ID,
                                                            "kind": "desk"}
    r = await client.get("/api/v1/people?q=dur&limit=5", headers=agent)
    people = await r.json()
    assert {"id", "email", "display_name", "teams"} <= set(people[0])
    assert booking.calls_to("search_people")[0].kwargs == {"q": "dur", "limit": 5}
    r = await client.get(f"/api/v1/people/{booking.AGENT_PERSON_ID}", headers=agent)
    assert (await r.json())["email"] == "agent@example.org"


async def test_admin_entities_and_imports(client, tokens, booking):
    admin = tokens.auth("admin")
    r = await client.post("/api/v1/sites", headers=admin, json={
        "code": "CTM", "name": "Centre technique", "timezone": "Europe/Paris",
        "opening_time": "07:00", "midday_time": "12:30", "closing_time": "18:00",
        "closed_weekdays": [6, 7]})
    assert r.status == 201
    (call,) = booking.calls_to("create_entity")
    assert call.kwargs["entity"] == "site"
    assert call.kwargs["data"] == {"code": "CTM", "name": "Centre technique",
                                   "timezone": "Europe/Paris", "opening_time": "07:00:00",
                                   "midday_time": "12:30:00", "closing_time": "18:00:00",
                                   "closed_weekdays": [6, 7]}
    r = await client.put(f"/api/v1/sites/{booking.SITE_ID}/rules/room", headers=admin,
                         json={"max_days_ahead": 20})
    assert r.status == 200 and (await r.json()) == {"max_days_ahead": 20}
    assert booking.calls_to("set_rules")[0].kwargs["rules"] == {"max_days_ahead": 20}
    assert booking.calls_to("set_rules")[0].kwargs["resource_kind"] == "room"
    r = await client.patch(f"/api/v1/zones/{booking.ZONE_ID}", headers=admin,
                           json={"name": "Zone RH"})
    assert r.status == 200
    assert booking.calls_to("update_entity")[0].kwargs == {
        "actor": call.kwargs["actor"], "entity": "zone", "entity_id": booking.ZONE_ID,
        "data": {"name": "Zone RH"}}

    def not_empty(**_):
        raise booking.DomainError("not_empty", "L'étage contient des zones.", "NotEmpty")

    booking.handlers["delete_entity"] = not_empty
    r = await client.delete(f"/api/v1/floors/{booking.FLOOR_ID}", headers=admin)
    assert r.status == 409 and (await r.json())["error"] == "not_empty"

    errors = [{"line": 3, "column": "kind", "message": "inconnu : sofa"}]

    def rejected(**_):
        raise booking.DomainError("import_rejected", "1 erreur ; rien n'a été importé.",
                                  "ImportRejected", errors=errors)

    booking.handlers["import_people"] = rejected
    r = await client.post("/api/v1/imports/people", data="email,display_name\nx,y\n",
                          headers={**admin, "Content-Type": "text/csv"})
    assert r.status == 422
    assert (await r.json())["errors"] == errors
