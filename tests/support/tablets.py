"""Door tablet fixtures: a headless Chromium (Debian's, driven by Playwright)
and a helper that pairs a display page with a room through the admin API."""

import re

import httpx
import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


@pytest.fixture
def chromium():
    """Per test: Playwright's sync API runs its own event loop while started,
    which would stop pytest-asyncio's tests that come after it."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def tablet_page(chromium):
    """A fresh tablet (its own storage), landscape, French by default."""
    context = chromium.new_context(viewport={"width": 1280, "height": 800}, locale="fr-FR",
                                   extra_http_headers={"Accept-Language": "fr"})
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def pair_display(issue):
    """``pair_display(page, gateway_url, room_id)``: open /display, read the
    code it shows, pair it as an admin; returns the device record."""
    admin = {"Authorization": f"Bearer {issue('admin@mairie-test.fr', 'admin')}"}

    def pair(page, gateway_url: str, room_id: str) -> dict:
        from playwright.sync_api import expect

        if not page.url.endswith("/display"):
            page.goto(f"{gateway_url}/display")
        code = page.locator("#pair-code")
        # A locator, not wait_for_function: a string predicate needs eval, which
        # the page's Content-Security-Policy forbids.
        expect(code).to_have_text(re.compile(r"^[A-Z2-9]{6}$"), timeout=10_000)
        text = code.text_content()
        assert re.fullmatch(r"[A-Z2-9]{6}", text), text
        answer = httpx.post(f"{gateway_url}/api/v1/devices/pair", headers=admin, timeout=10,
                            json={"code": text, "room_id": room_id})
        assert answer.status_code == 201, answer.text
        page.locator("#room-name").wait_for(state="visible", timeout=10_000)
        return answer.json()

    return pair


@pytest.fixture
def own_gateway(amqp_uri, gateway_db_url, booking_service, presence_redis_prefix, gateway):
    """A gateway of this test's own, to stop and start again (the session's
    ``gateway`` keeps serving the other tests and the API calls meanwhile)."""
    from tests.support.processes import REDIS_URL, gateway_process

    process = gateway_process(amqp_uri, gateway_db_url, ESCALE_REDIS_URL=REDIS_URL,
                              ESCALE_PRESENCE_REDIS_PREFIX=presence_redis_prefix).start()
    yield process
    process.stop()
