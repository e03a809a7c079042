"""The door tablet page in a real browser (Debian's Chromium through
Playwright) against the whole system: pairing, live bookings within 2 s,
check in, end early, a released no-show."""

import re
from datetime import datetime, timedelta, timezone

import httpx
import psycopg
import pytest
from playwright.sync_api import expect

from tests.support.clock import daytime_zone
from tests.support.data import make_place

pytestmark = pytest.mark.e2e


@pytest.fixture
def place(booking_db_url):
    """The rooms' meetings happen now and must be today's: a site where it is daytime."""
    return make_place(booking_db_url, timezone=daytime_zone())


def book_room(gateway, headers, room_id, start, minutes=30, title=""):
    answer = httpx.post(f"{gateway.url}/api/v1/bookings", headers=headers, timeout=10, json={
        "resource_id": room_id, "start": start.isoformat(),
        "end": (start + timedelta(minutes=minutes)).isoformat(), "title": title})
    assert answer.status_code == 201, answer.text
    return answer.json()


@pytest.fixture
def agent(place, issue):
    return {"Authorization": f"Bearer {issue(place.emails[0], 'agent', person_id=place.people[0])}"}


def test_a_paired_tablet_shows_a_booking_within_2_s_checks_in_and_ends_early(
        gateway, place, agent, tablet_page, pair_display):
    page = tablet_page
    page.goto(f"{gateway.url}/display")
    expect(page.locator("#pairing h1")).to_have_text("Associer cette tablette à une salle")
    pair_display(page, gateway.url, place.rooms[0])
    expect(page.locator("#status-text")).to_have_text("LIBRE", timeout=5_000)
    expect(page.locator("#check-in")).to_be_hidden()
    expect(page.locator("#offline")).to_be_hidden()

    booking = book_room(gateway, agent, place.rooms[0], datetime.now(timezone.utc) - timedelta(minutes=2),
                        title="Revue de sprint")
    expect(page.locator("#status-text")).to_have_text("OCCUPÉ", timeout=2_000)
    expect(page.locator("#status")).to_have_class("busy")
    expect(page.locator("#current")).to_contain_text("Revue de sprint")
    expect(page.locator("#remaining")).to_contain_text("min")

    check_in = page.get_by_role("button", name="Je suis là")
    expect(check_in).to_be_enabled(timeout=5_000)
    box = check_in.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 44  # touch target
    check_in.click()
    expect(page.locator("#message")).to_have_text("Présence confirmée.")
    status = httpx.get(f"{gateway.url}/api/v1/bookings/{booking['id']}", headers=agent).json()["status"]
    assert status == "checked_in"
    expect(check_in).to_be_hidden()

    page.get_by_role("button", name="Prolonger 15 min").click()
    expect(page.locator("#message")).to_have_text("Réunion prolongée de 15 minutes.")
    extended = httpx.get(f"{gateway.url}/api/v1/bookings/{booking['id']}", headers=agent).json()
    assert datetime.fromisoformat(extended["end"]) == datetime.fromisoformat(booking["end"]) + timedelta(minutes=15)

    page.get_by_role("button", name="Terminer").click()
    expect(page.locator("#status-text")).to_have_text("LIBRE", timeout=2_000)
    expect(page.locator("#message")).to_have_text("Réunion terminée : la salle est libre.")
    status = httpx.get(f"{gateway.url}/api/v1/bookings/{booking['id']}", headers=agent).json()["status"]
    assert status == "ended"
    # No scrolling: the page fits the screen.
    assert page.evaluate("document.documentElement.scrollHeight <= window.innerHeight")


def test_a_no_show_is_released_and_the_display_turns_free(gateway, place, agent, issue,
                                                          tablet_page, pair_display):
    admin = {"Authorization": f"Bearer {issue('admin@mairie-test.fr', 'admin')}"}
    rules = httpx.put(f"{gateway.url}/api/v1/sites/{place.site_id}/rules/room", headers=admin,
                      json={"release_after_minutes": 1}, timeout=10)
    assert rules.status_code == 200, rules.text
    page = tablet_page
    pair_display(page, gateway.url, place.rooms[0])
    booking = book_room(gateway, agent, place.rooms[0], datetime.now(timezone.utc) - timedelta(minutes=2))
    expect(page.locator("#status-text")).to_have_text("OCCUPÉ", timeout=2_000)
    expect(page.locator("#current")).to_contain_text("Réservé")  # no title given
    expect(page.locator("#organiser")).to_have_text(re.compile(r"^Organisé par \S"))
    # The booking service's release timer runs every 15 s.
    expect(page.locator("#status-text")).to_have_text("LIBRE", timeout=25_000)
    status = httpx.get(f"{gateway.url}/api/v1/bookings/{booking['id']}", headers=agent).json()["status"]
    assert status == "released"


def test_a_revoked_tablet_goes_back_to_pairing(gateway, place, issue, tablet_page, pair_display):
    admin = {"Authorization": f"Bearer {issue('admin@mairie-test.fr', 'admin')}"}
    page = tablet_page
    device = pair_display(page, gateway.url, place.rooms[0])
    expect(page.locator("#room-name")).not_to_be_empty()
    assert httpx.delete(f"{gateway.url}/api/v1/devices/{device['id']}", headers=admin).status_code == 204
    page.reload()
    expect(page.locator("#pair-code")).to_have_text(re.compile(r"^[A-Z2-9]{6}$"),
                                                     timeout=10_000)


def test_gateway_down_shows_offline_keeps_the_schedule_and_resyncs_without_reload(
        gateway, own_gateway, place, agent, tablet_page, pair_display):
    page = tablet_page
    pair_display(page, own_gateway.url, place.rooms[0])
    start = datetime.now(timezone.utc) - timedelta(minutes=2)
    first = book_room(gateway, agent, place.rooms[0], start, minutes=20, title="Atelier")
    expect(page.locator("#status-text")).to_have_text("OCCUPÉ", timeout=2_000)
    page.evaluate("window.sameDocument = true")  # gone if the page reloads

    own_gateway.stop()
    expect(page.locator("#offline")).to_have_text(re.compile(r"^Hors ligne depuis \d\d:\d\d$"),
                                                  timeout=5_000)
    # The last schedule stays, the clock runs, actions are refused.
    expect(page.locator("#current")).to_contain_text("Atelier")
    expect(page.get_by_role("button", name="Terminer")).to_be_disabled()
    clock = page.locator("#clock").text_content()
    assert re.fullmatch(r"\d\d:\d\d", clock)

    # Meanwhile (through another gateway) the meeting ends and another is booked.
    assert httpx.delete(f"{gateway.url}/api/v1/bookings/{first['id']}", headers=agent).status_code == 200
    book_room(gateway, agent, place.rooms[0], start + timedelta(minutes=25), minutes=10,
              title="Rétrospective")

    own_gateway.start()
    expect(page.locator("#offline")).to_be_hidden(timeout=20_000)
    expect(page.locator("#status-text")).to_have_text("LIBRE")
    expect(page.locator("#timeline")).to_contain_text("Rétrospective")
    assert page.evaluate("window.sameDocument === true")
    expect(page.get_by_role("button", name="Je suis là")).to_be_hidden()


def minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def display_name(booking_db_url, person_id):
    with psycopg.connect(booking_db_url) as conn:
        return conn.execute("SELECT display_name FROM person WHERE id = %s", (person_id,)).fetchone()[0]


def test_book_now_offers_only_what_fits_before_the_next_meeting(gateway, booking_db_url, place, agent,
                                                                tablet_page, pair_display):
    page = tablet_page
    pair_display(page, gateway.url, place.rooms[0])
    expect(page.locator("#status-text")).to_have_text("LIBRE", timeout=5_000)
    next_start = minute(datetime.now(timezone.utc)) + timedelta(minutes=20)
    following = book_room(gateway, agent, place.rooms[0], next_start, title="Revue budgétaire")
    expect(page.locator("#timeline")).to_contain_text("Revue budgétaire", timeout=2_000)
    expect(page.locator("#timeline")).to_contain_text(display_name(booking_db_url, place.people[0]))

    book_15, book_30, book_60 = (page.get_by_role("button", name=f"Réserver {m} min") for m in (15, 30, 60))
    expect(page.locator("#book-now h2")).to_have_text("Réserver maintenant")
    expect(book_15).to_be_enabled()
    expect(book_30).to_be_disabled()
    expect(book_60).to_be_disabled()
    reason = page.locator("#book-reason")
    expect(reason).to_have_text(re.compile(r"^Jusqu'à \d\d:\d\d au plus : réunion suivante$"))
    assert book_30.get_attribute("title") == reason.text_content()
    for button in (book_15, book_30, book_60):
        box = button.bounding_box()
        assert box["height"] >= 44 and box["width"] >= 44  # touch targets
    assert page.evaluate("document.documentElement.scrollHeight <= window.innerHeight")

    book_15.click()
    expect(page.locator("#status-text")).to_have_text("OCCUPÉ", timeout=2_000)
    expect(page.locator("#message")).to_have_text(re.compile(r"^Salle réservée jusqu'à \d\d:\d\d\.$"))
    expect(page.locator("#current")).to_contain_text("Réservation immédiate")
    expect(page.locator("#organiser")).to_be_empty()
    expect(page.locator("#book-now")).to_be_hidden()  # the room is taken
    expect(page.get_by_role("button", name="Je suis là")).to_be_hidden()  # checked in when booked
    room = httpx.get(f"{gateway.url}/api/v1/bookings", headers=agent, timeout=10,
                     params={"resource_id": place.rooms[0]}).json()
    walk_ins = [b for b in room if b["id"] != following["id"] and b["status"] == "checked_in"]
    assert len(walk_ins) == 1
    assert datetime.fromisoformat(walk_ins[0]["end"]) <= next_start

    # Ended at the door, the room is free again and the buttons come back.
    page.get_by_role("button", name="Terminer").click()
    expect(page.locator("#status-text")).to_have_text("LIBRE", timeout=2_000)
    expect(book_15).to_be_enabled()


def test_the_organiser_is_shown_and_a_private_room_says_reserved_only(gateway, booking_db_url, place,
                                                                      agent, issue, tablet_page,
                                                                      pair_display):
    page = tablet_page
    pair_display(page, gateway.url, place.rooms[0])
    book_room(gateway, agent, place.rooms[0], datetime.now(timezone.utc) - timedelta(minutes=2),
              title="Entretien annuel")
    name = display_name(booking_db_url, place.people[0])
    expect(page.locator("#current")).to_contain_text("Entretien annuel", timeout=2_000)
    expect(page.locator("#organiser")).to_have_text(f"Organisé par {name}")

    admin = {"Authorization": f"Bearer {issue('admin@mairie-test.fr', 'admin')}"}
    patched = httpx.patch(f"{gateway.url}/api/v1/resources/{place.rooms[0]}", headers=admin, timeout=10,
                          json={"attributes": {"private": True}})
    assert patched.status_code == 200, patched.text
    page.reload()
    expect(page.locator("#current")).to_contain_text("Réservé", timeout=5_000)
    expect(page.locator("#current")).not_to_contain_text("Entretien annuel")
    expect(page.locator("#organiser")).to_be_empty()
    assert name not in page.locator("body").inner_text()


def test_book_now_is_refused_offline_with_the_reason(gateway, own_gateway, place, tablet_page,
                                                     pair_display):
    page = tablet_page
    pair_display(page, own_gateway.url, place.rooms[0])
    book_15 = page.get_by_role("button", name="Réserver 15 min")
    expect(book_15).to_be_enabled(timeout=5_000)
    own_gateway.stop()
    expect(page.locator("#offline")).to_be_visible(timeout=5_000)
    for minutes in (15, 30, 60):
        expect(page.get_by_role("button", name=f"Réserver {minutes} min")).to_be_disabled()
    expect(page.locator("#book-reason")).to_have_text("Hors ligne : réservation impossible pour l'instant")
    own_gateway.start()
    expect(book_15).to_be_enabled(timeout=20_000)
