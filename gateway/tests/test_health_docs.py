"""Probes, metrics, the OpenAPI document and its offline docs page."""

from __future__ import annotations

import re

import pytest
from openapi_spec_validator import validate

pytestmark = pytest.mark.integration


async def test_healthz_and_readyz(client):
    r = await client.get("/healthz")
    assert r.status == 200 and await r.json() == {"status": "ok"}
    r = await client.get("/readyz")
    assert r.status == 200
    assert await r.json() == {"status": "ready", "checks": {"amqp": True, "database": True,
                                                            "catalog_events": True}}


async def test_metrics_count_requests_and_rpc(client, tokens):
    await client.get("/api/v1/people?q=dur", headers=tokens.auth("agent"))
    await client.get("/api/v1/people?q=", headers=tokens.auth("agent"))
    r = await client.get("/metrics")
    assert r.status == 200 and r.content_type.startswith("text/plain")
    text = await r.text()
    assert ('escale_gateway_requests_total{method="GET",route="/api/v1/people",status="200"} 1.0'
            in text)
    assert 'route="/api/v1/people",status="422"} 1.0' in text
    assert ('escale_gateway_rpc_seconds_count{method="search_people",outcome="ok",'
            'service="booking"} 1.0') in text
    assert "q=dur" not in text  # query strings never become labels


async def test_request_id_is_echoed(client):
    r = await client.get("/healthz", headers={"X-Request-Id": "abc-123"})
    assert r.headers["X-Request-Id"] == "abc-123"
    r = await client.get("/healthz")
    assert len(r.headers["X-Request-Id"]) == 32


async def test_openapi_document_over_http(client):
    r = await client.get("/api/v1/openapi.json")
    assert r.status == 200 and r.content_type == "application/json"
    document = await r.json()
    validate(document)
    assert "/bookings" in document["paths"] and "/availability" in document["paths"]


async def test_docs_page_works_offline(client):
    r = await client.get("/api/v1/docs")
    assert r.status == 200 and r.content_type == "text/html"
    page = await r.text()
    assert '<html lang="fr">' in page
    assert "http://" not in page and "https://" not in page
    assert "default-src 'self'" in r.headers["Content-Security-Policy"]
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    for asset in assets:
        assert asset.startswith("/api/v1/"), asset
        got = await client.get(asset)
        assert got.status == 200, asset
    init = await (await client.get("/api/v1/docs/init.js")).text()
    assert '"/api/v1/openapi.json"' in init and "validatorUrl: null" in init
    # without JavaScript, the operations are listed
    assert "POST /api/v1/bookings" in page


async def test_docs_page_in_english(client):
    r = await client.get("/api/v1/docs", headers={"Accept-Language": "en-US,en;q=0.9"})
    page = await r.text()
    assert '<html lang="en">' in page and "Escale API" in page
