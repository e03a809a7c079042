"""Security headers, rate limits and request limits of a real gateway."""

from __future__ import annotations

import itertools
import re
import uuid

import httpx
import pytest
from playwright.sync_api import expect

from tests.support.processes import gateway_process
from tests.support.servers import REDIS_URL

pytestmark = pytest.mark.integration

SIGNAGE = "https://signage.mairie-test.fr"


@pytest.fixture(scope="module")
def production_gateway(amqp_uri, gateway_db_url, booking_service, redis_prefix):
    """A gateway in production mode behind one trusted proxy, with small rate limits
    (per day, so no window ends during a test) and a signage player allowed to frame
    the tablet page."""
    process = gateway_process(
        amqp_uri, gateway_db_url, ESCALE_ENV="production", ESCALE_REDIS_URL=REDIS_URL,
        ESCALE_GATEWAY_REDIS_PREFIX=f"{redis_prefix}gateway:",
        ESCALE_PRESENCE_REDIS_PREFIX=f"{redis_prefix}presence:",
        ESCALE_RATE_LIMIT_TOKEN="5/86400", ESCALE_RATE_LIMIT_ADDRESS="4/86400",
        ESCALE_TRUSTED_PROXY_HOPS="1", ESCALE_DISPLAY_FRAME_ANCESTORS=SIGNAGE,
    ).start()
    yield process
    process.stop()


# Each call a client never seen before: random addresses out of 250 met each
# other often enough that a test found its address already counted (4 of 4).
_CLIENTS = itertools.count(1)


def from_address() -> dict:
    """Headers of a request relayed by the trusted proxy for a client of its own."""
    n = next(_CLIENTS)
    assert n < 255, "out of test addresses"
    return {"X-Forwarded-For": f"203.0.113.{n}, 10.0.0.{n}"}


def assert_hardened(response: httpx.Response) -> None:
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    csp = response.headers["Content-Security-Policy"]
    script = next((d for d in csp.split(";") if d.strip().startswith("script-src")), "")
    assert "unsafe-inline" not in script and "unsafe-eval" not in script
    assert "default-src" in csp


def test_api_answers_carry_security_headers_and_no_frame(signin_gateway, issue, people):
    token = issue(people.emails[0], "agent", person_id=people.people[0])
    for answer in (httpx.get(f"{signin_gateway.url}/api/v1/me", timeout=10,
                             headers={"Authorization": f"Bearer {token}"}),
                   httpx.get(f"{signin_gateway.url}/api/v1/nothing-here", timeout=10),
                   httpx.get(f"{signin_gateway.url}/api/v1/me", timeout=10)):
        assert_hardened(answer)
        assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]
        assert answer.headers["X-Frame-Options"] == "DENY"
        assert "Strict-Transport-Security" not in answer.headers  # development over http


def test_pages_keep_their_own_policy_without_inline_script(signin_gateway):
    for path in ("/api/v1/docs", "/display", "/auth/login"):
        answer = httpx.get(f"{signin_gateway.url}{path}", timeout=10)
        assert answer.status_code == 200, path
        assert_hardened(answer)
        assert "<script>" not in answer.text and "onload=" not in answer.text, path
        assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"], path


def test_the_tablet_page_may_be_framed_only_where_configured(production_gateway):
    display = httpx.get(f"{production_gateway.url}/display", timeout=10)
    assert display.status_code == 200
    assert f"frame-ancestors {SIGNAGE}" in display.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in display.headers
    docs = httpx.get(f"{production_gateway.url}/api/v1/docs", timeout=10, headers=from_address())
    assert "frame-ancestors 'none'" in docs.headers["Content-Security-Policy"]
    assert docs.headers["X-Frame-Options"] == "DENY"


def test_hsts_in_production(production_gateway):
    answer = httpx.get(f"{production_gateway.url}/healthz", timeout=10)
    assert answer.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_a_token_is_limited_on_its_own(production_gateway, issue, people):
    busy = {"Authorization": f"Bearer {issue(people.emails[0], 'agent', person_id=people.people[0])}"}
    calm = {"Authorization": f"Bearer {issue(people.emails[1], 'agent', person_id=people.people[1])}"}
    url = f"{production_gateway.url}/api/v1/me"
    assert [httpx.get(url, headers=busy, timeout=10).status_code for _ in range(5)] == [200] * 5
    refused = httpx.get(url, headers=busy, timeout=10)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 86400
    body = refused.json()
    assert body["error"] == "rate_limited" and "Trop de requêtes" in body["message"]
    english = httpx.get(url, headers={**busy, "Accept-Language": "en"}, timeout=10)
    assert english.status_code == 429 and "Too many requests" in english.json()["message"]
    assert_hardened(refused)
    # Another token, from the same address, is not affected.
    assert httpx.get(url, headers=calm, timeout=10).status_code == 200


def test_anonymous_callers_are_limited_per_address(production_gateway):
    me, neighbour = from_address(), from_address()
    url = f"{production_gateway.url}/api/v1/openapi.json"
    assert [httpx.get(url, headers=me, timeout=10).status_code for _ in range(4)] == [200] * 4
    refused = httpx.get(url, headers=me, timeout=10)
    assert refused.status_code == 429 and refused.headers["Retry-After"]
    # Also for a sign-in attempt from there; not for another address.
    assert httpx.get(f"{production_gateway.url}/auth/login", headers=me,
                     timeout=10).status_code == 429
    assert httpx.get(url, headers=neighbour, timeout=10).status_code == 200


def test_made_up_tokens_count_against_their_address(production_gateway):
    me = from_address()
    url = f"{production_gateway.url}/api/v1/me"
    codes = [httpx.get(url, timeout=10, headers={
        **me, "Authorization": f"Bearer esc_{uuid.uuid4().hex}{uuid.uuid4().hex[:11]}"}).status_code
        for _ in range(5)]
    assert codes == [401] * 4 + [429]


def test_health_metrics_and_static_files_are_never_limited(production_gateway):
    me = from_address()
    for path in ("/healthz", "/readyz", "/metrics", "/display/display.css"):
        codes = {httpx.get(f"{production_gateway.url}{path}", headers=me, timeout=10).status_code
                 for _ in range(8)}
        assert codes == {200}, path


def test_request_bodies_are_limited(signin_gateway, issue, people):
    token = issue(people.emails[0], "agent", person_id=people.people[0])
    answer = httpx.post(f"{signin_gateway.url}/api/v1/bookings", timeout=10,
                        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                        content=b'{"title": "' + b"x" * 70_000 + b'"}')
    assert answer.status_code == 413 and answer.json()["error"] == "too_large"
    form = httpx.post(f"{signin_gateway.url}/auth/demo", timeout=10,
                      data={"email": "a@b.fr", "next": "/" + "x" * 70_000})
    assert form.status_code == 413


@pytest.mark.e2e
def test_pages_work_in_a_browser_under_their_policies(signin_gateway, chromium):
    """Swagger UI renders, the tablet page shows its pairing code and the sign-in
    page is styled, with no Content-Security-Policy violation reported."""
    context = chromium.new_context(locale="fr-FR")
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    try:
        page.goto(f"{signin_gateway.url}/api/v1/docs")
        page.locator(".swagger-ui .info .title").wait_for(state="visible", timeout=20_000)
        assert page.locator(".opblock").count() > 10
        page.goto(f"{signin_gateway.url}/display")
        # (A locator, not wait_for_function: polling a string predicate needs eval,
        # which the page's policy rightly forbids.)
        expect(page.locator("#pair-code")).to_have_text(re.compile(r"^[A-Z0-9]{6}$"),
                                                         timeout=20_000)
        page.goto(f"{signin_gateway.url}/auth/login")
        colour = page.eval_on_selector("button", "b => getComputedStyle(b).backgroundColor")
        assert colour == "rgb(0, 0, 145)"  # the style sheet applied
        assert page.locator("label[for=email]").text_content() == "Adresse électronique"
    finally:
        context.close()
    assert problems == []
