"""Browser tests of the web app: the whole system (booking, presence,
gateway) started once per session, one headless Chromium (Debian's, driven
by Playwright) shared by the tests of this folder, a fresh browser context
(own cookies and storage) per person, signed in through the demo sign-in."""

from __future__ import annotations

import subprocess
import uuid
from datetime import timedelta
from types import SimpleNamespace
from pathlib import Path

import pytest

import httpx

from tests.support.tablets import CHROMIUM, CHROMIUM_ARGS
from tests.support.clock import paris_today

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
AXE = WEB / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
ADMIN_EMAIL = "admin.demo@mairie-exemple.fr"  # ESCALE_DEMO_ADMINS' default


@pytest.fixture(scope="package")
def browser():
    """One Chromium for the folder (package scope: Playwright's sync API runs
    its own event loop, which must be gone before asyncio tests elsewhere)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="package")
def axe_source() -> str:
    """axe-core from npm (web/package-lock.json), installed here if missing."""
    if not AXE.exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=WEB, check=True, timeout=300)
    return AXE.read_text(encoding="utf-8")


@pytest.fixture(scope="package")
def web_app(gateway, presence_service):
    """The gateway serving the app, with booking and presence behind it."""
    return gateway


PEOPLE_HEADER = ("email,given_name,family_name,display_name,department,job_title,phone_extension,"
                 "language,team_codes,team_names")
PLACE_HEADER = ("site_code,site_name,site_timezone,site_address,building_code,building_name,floor_code,"
                "floor_name,floor_level,zone_code,zone_name,zone_team_code,kind,code,name,capacity,"
                "attributes,restricted_team_codes,x,y")


@pytest.fixture(scope="package")
def web_place(web_app, issue):
    """A site of this folder's own, made as an administrator would: the
    people and the place imported as CSV through the API (so every gateway
    cache hears of it), open around the clock, day bookings allowed."""
    tag = uuid.uuid4().hex[:6]
    api = f"{web_app.url}/api/v1"
    admin = {"Authorization": f"Bearer {issue('admin@mairie-test.fr', 'admin')}"}
    emails = [f"web{i}.{tag}@mairie-test.fr" for i in range(6)]
    people = [PEOPLE_HEADER] + [f"{e},Agent{i},Web{tag},,DSI,Agent,10{i},fr,w{tag},Équipe {tag}"
                                for i, e in enumerate(emails)]
    people.append(f"{ADMIN_EMAIL},Dominique,Admin,,Direction générale,Administratrice,1900,fr,,")
    site = f"w{tag}"
    rows = [PLACE_HEADER]
    for i in range(8):
        attributes = "screens=2;docking_station" if i % 3 == 0 else "screens=1"
        rows.append(f"{site},Site web {tag},Europe/Paris,,b,Bâtiment A,f1,Étage 1,1,open,Plateau ouvert,,desk,"
                    f"D{i:03d},Bureau {i},1,{attributes},,{40 + 70 * (i % 4)},{50 + 90 * (i // 4)}")
    for i in range(2):
        rows.append(f"{site},Site web {tag},Europe/Paris,,b,Bâtiment A,f1,Étage 1,1,open,Plateau ouvert,,room,"
                    f"R{i:02d},Salle {i},8,video_conferencing,,,")
    for kind, text in (("people", people), ("resources", rows)):
        answer = httpx.post(f"{api}/imports/{kind}", headers={**admin, "Content-Type": "text/csv"},
                            content="\n".join(text).encode(), timeout=30)
        assert answer.status_code == 200, answer.text
    site_id = next(s["id"] for s in httpx.get(f"{api}/sites", headers=admin).json() if s["code"] == site)
    answer = httpx.patch(f"{api}/sites/{site_id}", headers=admin, timeout=10, json={
        "opening_time": "00:00", "midday_time": "12:00", "closing_time": "23:59", "closed_weekdays": []})
    assert answer.status_code == 200, answer.text
    for kind in ("desk", "room"):
        answer = httpx.put(f"{api}/sites/{site_id}/rules/{kind}", headers=admin, timeout=10,
                           json={"max_duration_minutes": 1440, "max_days_ahead": 60})
        assert answer.status_code == 200, answer.text
    tree = httpx.get(f"{api}/sites/{site_id}", headers=admin).json()
    floor_id = tree["buildings"][0]["floors"][0]["id"]
    return SimpleNamespace(site_id=site_id, floor_id=floor_id, emails=emails, tag=tag, admin=admin)


@pytest.fixture
def new_context(browser):
    """``new_context(lang="fr", width=1280, height=900, **options)``: closed at the end of the test."""
    contexts = []

    def make(lang: str = "fr", width: int = 1280, height: int = 900, **options):
        context = browser.new_context(
            viewport={"width": width, "height": height}, locale="fr-FR" if lang == "fr" else "en-GB",
            timezone_id="Europe/Paris", extra_http_headers={"Accept-Language": lang}, **options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


def sign_in(context, base_url: str, email: str, next_path: str = "/app/"):
    """A signed-in page on ``next_path``, as a new user gets there: the app
    sends a visitor without a session to the sign-in page, they type their
    email into the demo sign-in form and submit it, and the gateway sends
    them back where they were going."""
    page = context.new_page()
    page.goto(f"{base_url}{next_path}")
    page.wait_for_url("**/auth/login**")
    page.locator("#email").fill(email)
    page.locator("form[action='/auth/demo'] button[type='submit']").click()
    page.wait_for_url(f"**{next_path}**")
    page.wait_for_selector("body[data-ready='1']")
    return page


def tomorrow() -> str:
    """The next day that is not a French public holiday (sites close on those)."""
    import holidays

    day = paris_today() + timedelta(days=1)
    while day in holidays.France(years=day.year):
        day += timedelta(days=1)
    return day.isoformat()


def open_floor(page, place, day: str, view: str = "map"):
    """On the desk page: the test's site and floor, ``day``, a whole day."""
    page.wait_for_selector("main[data-loaded='1']")
    page.select_option("select[name=site]", place.site_id)
    page.select_option("select[name=floor]", place.floor_id)
    page.locator("input[name=date]").fill(day)
    page.locator("input[name=date]").dispatch_event("change")
    if view == "list":
        page.get_by_label("Liste").check()
    page.wait_for_selector(f".desk-results[data-day='{day}'][data-floor='{place.floor_id}'] [data-desk='D000']")
