"""Bad input gets a 4xx with a message (and the field), before any RPC."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration

DESK = "de5c0000-0000-4000-8000-000000000001"
FLOOR = "f1000000-0000-4000-8000-000000000001"
START = "2026-03-10T09:00:00+01:00"
END = "2026-03-10T12:00:00+01:00"


async def error_of(response, status):
    assert response.status == status, await response.text()
    assert response.content_type == "application/json"
    body = await response.json()
    assert body["error"] and body["message"]
    assert "Traceback" not in await response.text()
    return body


@pytest.mark.parametrize("body, field", [
    ({"resource_id": 123, "start": START, "end": END}, "resource_id"),
    ({"resource_id": "desk-1", "start": START, "end": END}, "resource_id"),
    ({"resource_id": DESK, "start": "2026-03-10T09:00:00", "end": END}, "start"),
    ({"resource_id": DESK, "start": START, "end": "2026-03-10T08:00:00+01:00"}, "end"),
    ({"resource_id": DESK, "start": True, "end": END}, "start"),
    ({"resource_id": DESK, "start": START, "end": END, "surprise": 1}, "surprise"),
    ({"resource_id": DESK, "start": "2036-03-10T09:00:00+01:00",
      "end": "2136-03-10T09:00:00+01:00"}, "end"),
    ({"resource_id": DESK, "date": "2026-02-30"}, "date"),
    ({"resource_id": DESK, "date": "2026-03-10", "period": "night"}, "period"),
    ({"resource_id": DESK, "date": "2026-03-10", "rrule": ["FREQ=WEEKLY"]}, "rrule"),
    ({"resource_id": DESK, "date": "2026-03-10", "title": 42}, "title"),
    ({"resource_id": DESK, "date": "2026-03-10", "person_id": 7}, "person_id"),
    ({}, "resource_id"),
])
async def test_booking_body_errors(client, tokens, booking, body, field):
    r = await client.post("/api/v1/bookings", json=body, headers=tokens.auth("agent"))
    error = await error_of(r, 422)
    assert error["error"] == "invalid"
    assert error["field"] == field
    assert booking.work == []


async def test_naive_datetime_message_in_both_languages(client, tokens):
    body = {"resource_id": DESK, "start": "2026-03-10T09:00:00", "end": "2026-03-10T10:00:00"}
    fr = await error_of(await client.post("/api/v1/bookings", json=body,
                                          headers=tokens.auth("agent")), 422)
    assert "fuseau" in fr["message"]
    en = await error_of(await client.post("/api/v1/bookings", json=body,
                                          headers=tokens.auth("agent",
                                                              **{"Accept-Language": "en"})),
                        422)
    assert "offset" in en["message"]


@pytest.mark.parametrize("raw", ["not json", "[1, 2]", "null", "\"text\"", "{\"a\": ", "\xff"])
async def test_body_must_be_a_json_object(client, tokens, booking, raw):
    r = await client.post("/api/v1/bookings", data=raw.encode("latin-1"),
                          headers=tokens.auth("agent", **{"Content-Type": "application/json"}))
    assert (await error_of(r, 400))["error"] == "invalid_json"
    assert booking.work == []


async def test_one_megabyte_body_is_refused(client, tokens, booking):
    big = '{"resource_id": "' + "x" * (1024 * 1024) + '"}'
    r = await client.post("/api/v1/bookings", data=big,
                          headers=tokens.auth("agent", **{"Content-Type": "application/json"}))
    body = await error_of(r, 413)
    assert body["error"] == "too_large"
    assert "65536" in body["message"]
    assert booking.work == []


async def test_large_body_without_content_length_is_refused(client, tokens):
    async def chunks():
        for _ in range(20):
            yield b"x" * 10000

    r = await client.post("/api/v1/bookings", data=chunks(),
                          headers=tokens.auth("agent", **{"Content-Type": "application/json"}))
    assert (await error_of(r, 413))["error"] == "too_large"


@pytest.mark.parametrize("key", ["", "x" * 201, "has space", "tab\there", "é"])
async def test_bad_idempotency_key(client, tokens, booking, key):
    r = await client.post("/api/v1/bookings", json={"resource_id": DESK, "date": "2026-03-10"},
                          headers=tokens.auth("agent", **{"Idempotency-Key": key}))
    body = await error_of(r, 422)
    assert body["field"] == "Idempotency-Key"
    assert booking.calls_to("create_booking") == []


@pytest.mark.parametrize("query, field", [
    (f"start={START}&end={END}", "floor_id"),
    (f"floor_id={FLOOR}&site_id={FLOOR}&date=2026-03-10", "floor_id"),
    ("floor_id=third&date=2026-03-10", "floor_id"),
    (f"floor_id={FLOOR}&start=2026-03-10T09:00:00&end=2026-03-10T10:00:00", "start"),
    (f"floor_id={FLOOR}&start={END}&end={START}", "end"),
    (f"floor_id={FLOOR}", "start"),
    (f"floor_id={FLOOR}&date=2026-03-10&min_capacity=many", "min_capacity"),
    (f"floor_id={FLOOR}&date=2026-03-10&attributes=docking station", "attributes"),
    (f"floor_id={FLOOR}&date=2026-03-10&kind=sofa", "kind"),
    (f"floor_id={FLOOR}&date=2026-03-10&colour=red", "colour"),
    (f"floor_id={FLOOR}&date=3026-03-10", "date"),
])
async def test_availability_query_errors(client, tokens, booking, query, field):
    r = await client.get(f"/api/v1/availability?{query}", headers=tokens.auth("agent"))
    assert (await error_of(r, 422))["field"] == field
    assert booking.work == []


async def test_availability_passes_clean_arguments(client, tokens, booking):
    # "+" left unescaped in the query string arrives as a space: still understood
    r = await client.get(
        f"/api/v1/availability?zone_id={FLOOR}&start=2026-03-10T09:00:00+01:00"
        "&end=2026-03-10T10:00:00%2B01:00&kind=desk&min_capacity=2&attributes=docking_station,screens"
        f"&near_team_id={DESK}",
        headers=tokens.auth("agent"))
    assert r.status == 200
    (call,) = booking.calls_to("availability")
    assert call.kwargs == {
        "actor": call.kwargs["actor"], "zone_id": FLOOR, "start": "2026-03-10T09:00:00+01:00",
        "end": "2026-03-10T10:00:00+01:00", "kind": "desk", "min_capacity": 2,
        "attributes": ["docking_station", "screens"], "near_team_id": DESK, "compact": True,
    }
    # The service sends statuses only; the gateway joins them with the cached resources.
    body = await r.json()
    assert body["resources"] == [{**booking.DESK, "status": "booked", "booking_id": booking.BOOKING_ID}]


@pytest.mark.parametrize("query, field", [
    ("q=", "q"), ("", "q"), ("q=a&limit=51", "limit"), ("q=a&limit=0", "limit"),
    ("q=a&limit=ten", "limit"), ("q=" + "a" * 101, "q"),
])
async def test_people_query_errors(client, tokens, query, field):
    r = await client.get(f"/api/v1/people?{query}", headers=tokens.auth("agent"))
    assert (await error_of(r, 422))["field"] == field


@pytest.mark.parametrize("query, field", [
    ("status=lost", "status"), ("resource_id=12", "resource_id"),
    ("from=2026-03-10&to=2026-03-11", "from"), ("mine=perhaps", "mine"),
])
async def test_booking_list_query_errors(client, tokens, query, field):
    r = await client.get(f"/api/v1/bookings?{query}", headers=tokens.auth("agent"))
    assert (await error_of(r, 422))["field"] == field


@pytest.mark.parametrize("method, path", [
    ("GET", "/api/v1/bookings/42"),
    ("DELETE", "/api/v1/bookings/not-an-id"),
    ("POST", "/api/v1/bookings/abc/check-in"),
    ("GET", "/api/v1/resources/desk-1"),
    ("GET", "/api/v1/sites/HDV"),
    ("GET", "/api/v1/people/marie"),
])
async def test_path_ids_must_be_uuids(client, tokens, booking, method, path):
    r = await client.request(method, path, headers=tokens.auth("agent"))
    assert (await error_of(r, 404))["error"] == "not_found"
    assert booking.work == []


async def test_cancel_scope_is_checked(client, tokens, booking):
    r = await client.delete(f"/api/v1/bookings/{DESK}?scope=all", headers=tokens.auth("agent"))
    assert (await error_of(r, 422))["field"] == "scope"


async def test_unknown_rule_kind_is_404(client, tokens, booking):
    r = await client.put(f"/api/v1/sites/{booking.SITE_ID}/rules/chair", json={},
                         headers=tokens.auth("admin"))
    await error_of(r, 404)


@pytest.mark.parametrize("body, field", [
    ({}, "max_days_ahead"),
    ({"max_days_ahead": None}, "max_days_ahead"),
    ({"max_days_ahead": 30, "max_weeks_ahead": 3}, "max_weeks_ahead"),
    ({"max_days_ahead": "30", "max_recurring_days_ahead": 90, "max_duration_minutes": 600,
      "checkin_opens_minutes_before": 15, "release_after_minutes": 30}, "max_days_ahead"),
    ({"max_days_ahead": 99999, "max_recurring_days_ahead": 90, "max_duration_minutes": 600,
      "checkin_opens_minutes_before": 15, "release_after_minutes": 30}, "max_days_ahead"),
])
async def test_rules_body_errors(client, tokens, booking, body, field):
    r = await client.put(f"/api/v1/sites/{booking.SITE_ID}/rules/desk", json=body,
                         headers=tokens.auth("admin"))
    assert (await error_of(r, 422))["field"] == field


@pytest.mark.parametrize("path, body, field", [
    ("/api/v1/resources", {"zone_id": FLOOR, "kind": "desk", "code": "D1", "name": "D1",
                           "capacity": 0}, "capacity"),
    ("/api/v1/resources", {"zone_id": FLOOR, "kind": "sofa", "code": "D1", "name": "D1"}, "kind"),
    ("/api/v1/resources", {"zone_id": FLOOR, "kind": "desk", "code": "D" * 41, "name": "D1"},
     "code"),
    ("/api/v1/resources", {"zone_id": FLOOR, "site_id": FLOOR, "kind": "desk", "code": "D1",
                           "name": "D1"}, "site_id"),
    ("/api/v1/resources", {"zone_id": FLOOR, "kind": "desk", "code": "D1", "name": "D1",
                           "attributes": {"screens": [1, 2]}}, "attributes.screens"),
    ("/api/v1/sites", {"code": "S", "name": ""}, "name"),
    ("/api/v1/floors", {"building_id": "b", "code": "F", "name": "F"}, "building_id"),
    ("/api/v1/zones", {"floor_id": FLOOR, "code": "Z", "name": "Z", "team": "x"}, "team"),
])
async def test_admin_body_errors(client, tokens, booking, path, body, field):
    r = await client.post(path, json=body, headers=tokens.auth("admin"))
    error = await error_of(r, 422)
    assert error["field"].startswith(field)
    assert booking.work == []


async def test_csv_import_content_type_and_size(client, tokens, booking):
    admin = tokens.auth("admin")
    r = await client.post("/api/v1/imports/resources", json={"csv": "a,b"}, headers=admin)
    assert (await error_of(r, 415))["error"] == "unsupported_media_type"
    r = await client.post("/api/v1/imports/resources", data=b"x" * (2 * 1024 * 1024 + 1),
                          headers={**admin, "Content-Type": "text/csv"})
    assert (await error_of(r, 413))["error"] == "too_large"
    r = await client.post("/api/v1/imports/resources", data=b"\xff\xfe\x00",
                          headers={**admin, "Content-Type": "text/csv"})
    assert (await error_of(r, 422))["error"] == "invalid"
    r = await client.post("/api/v1/imports/resources", data=b"  \n",
                          headers={**admin, "Content-Type": "text/csv"})
    assert (await error_of(r, 422))["error"] == "invalid"
    assert booking.work == []


async def test_csv_bigger_than_json_limit_is_accepted(client, tokens, booking):
    lines = "code,name\n" + "".join(f"D{i},Bureau {i}\n" for i in range(20000))
    assert 64 * 1024 < len(lines.encode()) < 2 * 1024 * 1024
    r = await client.post("/api/v1/imports/resources", data=lines.encode(),
                          headers=tokens.auth("admin",
                                              **{"Content-Type": "text/csv; charset=utf-8"}))
    assert r.status == 200, await r.text()
    assert (await r.json())["created"] == 20001
    (call,) = booking.calls_to("import_resources")
    assert call.kwargs["csv_text"] == lines


async def test_unknown_route_and_method_are_json(client, tokens):
    r = await client.get("/api/v1/nothing-here", headers=tokens.auth("agent"))
    assert (await error_of(r, 404))["error"] == "not_found"
    r = await client.put("/api/v1/bookings", headers=tokens.auth("agent"))
    body = await error_of(r, 405)
    assert body["error"] == "method_not_allowed"
    assert "POST" in r.headers["Allow"]
