"""The OpenAPI document is valid and lists every API route (built without I/O)."""

from __future__ import annotations

import json

import pytest
from openapi_spec_validator import validate

from gateway.app import create_app
from gateway.routes import api
from gateway.routes.docs import OPENAPI_KEY
from gateway.settings import Settings

pytestmark = pytest.mark.unit

# /api/v1/live is a WebSocket (gateway/live.py documents its protocol).
NOT_IN_DOCUMENT = {"/api/v1/openapi.json", "/api/v1/docs", "/api/v1/docs/init.js",
                   "/api/v1/docs/static", "/api/v1/live"}


@pytest.fixture(scope="module")
def app_and_document():
    app = create_app(Settings())  # nothing connects until the app starts
    return app, json.loads(app[OPENAPI_KEY])


def test_document_is_valid_openapi(app_and_document):
    _, document = app_and_document
    validate(document)
    assert document["openapi"].startswith("3.1")


def test_every_api_route_is_documented(app_and_document):
    app, document = app_and_document
    routed = {
        (route.method.lower(), route.resource.canonical.removeprefix("/api/v1"))
        for route in app.router.routes()
        if route.resource.canonical.startswith("/api/v1/")
        and route.resource.canonical not in NOT_IN_DOCUMENT and route.method != "HEAD"
    }
    documented = {(m, p) for p, item in document["paths"].items() for m in item}
    assert routed == documented
    assert len(routed) == len(api.operations) >= 30


def test_operations_are_described(app_and_document):
    _, document = app_and_document
    for path, item in document["paths"].items():
        for method, op in item.items():
            assert op["summary"], (method, path)
            assert "429" in op["responses"], (method, path)  # rate limits apply everywhere
            if path.startswith("/display/pairings"):  # a display without a token yet
                assert op["security"] == [], (method, path)
                continue
            assert "401" in op["responses"], (method, path)
            if path.startswith("/bots/"):  # signed by the chat platform, not a bearer token
                assert op["security"] == [], (method, path)
                continue
            assert op["security"] == [{"bearer": []}, {"session": []}]
            if "{id}" in path:
                assert "404" in op["responses"]


def test_binding_shapes_are_documented(app_and_document):
    _, document = app_and_document
    post = document["paths"]["/bookings"]["post"]
    assert "201" in post["responses"] and "409" in post["responses"]
    assert any(p["name"] == "Idempotency-Key" for p in post["parameters"])
    booking = document["components"]["schemas"]["BookingCreate"]
    assert {"resource_id", "start", "end", "date", "period", "rrule"} <= set(booking["properties"])
    assert booking["additionalProperties"] is False
    params = {p["name"] for p in document["paths"]["/availability"]["get"]["parameters"]}
    assert {"floor_id", "site_id", "zone_id", "start", "end", "date", "period"} <= params
    assert {p["name"] for p in document["paths"]["/bookings"]["get"]["parameters"]} >= {"mine"}
    assert "text/csv" in document["paths"]["/imports/people"]["post"]["requestBody"]["content"]
