"""An agent books a desk on the floor plan, finds it in My bookings and
cancels it; the same with the keyboard alone on the list view; another
person's browser sees the desk turn busy within 2 s without reloading."""

import re

import pytest
from playwright.sync_api import expect

from .conftest import open_floor, sign_in, tomorrow

pytestmark = pytest.mark.e2e


def test_book_on_the_map_see_it_in_my_bookings_and_cancel(web_app, web_place, new_context):
    page = sign_in(new_context(), web_app.url, web_place.emails[0], "/app/desks")
    expect(page).to_have_title("Réserver un bureau — Escale")
    open_floor(page, web_place, tomorrow())
    desk = page.locator("svg.floor-map g[data-desk='D001']")
    expect(desk).to_have_attribute("data-status", "free")
    expect(desk).to_have_attribute("aria-label", "Bureau 1, D001, Libre, activer pour réserver")
    desk.click()
    expect(page.locator("#toast")).to_contain_text("Bureau 1 réservé")
    expect(desk).to_have_attribute("data-status", "mine")
    expect(page.locator("g[data-marks='D001'] text.desk__glyph")).to_have_text("★")  # a shape and a sign, not only a colour

    page.get_by_role("link", name="Mes réservations").click()
    expect(page).to_have_title("Mes réservations — Escale")
    row = page.locator("section[aria-labelledby=upcoming-title] li.booking", has_text="Bureau 1")
    expect(row).to_contain_text("Confirmée")
    row.get_by_role("button", name="Annuler Bureau 1").click()
    expect(page.locator("#toast")).to_contain_text("Réservation annulée.")
    expect(page.locator("section[aria-labelledby=upcoming-title]")).not_to_contain_text("Bureau 1")
    expect(page.locator("section[aria-labelledby=past-title] li.booking", has_text="Bureau 1")).to_contain_text("Annulée")


def tab_to(page, selector: str, limit: int = 120):
    """Press Tab until the focused element matches ``selector``."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_the_same_with_the_keyboard_alone_on_the_list_view(web_app, web_place, new_context):
    page = sign_in(new_context(), web_app.url, web_place.emails[1], "/app/desks")
    day = tomorrow()
    open_floor(page, web_place, day)
    page.reload()  # the site, floor and day are remembered; the keyboard starts from the top
    page.wait_for_selector(f".desk-results[data-day='{day}'] [data-desk='D000']")
    # The skip link comes first and leads to the content.
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Aller au contenu")
    page.keyboard.press("Enter")
    tab_to(page, "input[type=radio][value=map]")
    page.keyboard.press("ArrowRight")  # the radio group: Plan → Liste
    table = page.locator("table.desk-table")
    expect(table).to_be_visible()
    tab_to(page, "button[aria-label='Réserver Bureau 2']")
    page.keyboard.press("Enter")
    row = table.locator("tr[data-desk='D002']")
    expect(row).to_have_attribute("data-status", "mine")
    expect(row).to_contain_text("Ma réservation")
    expect(page.locator(":focus")).to_have_attribute("aria-label", "Annuler ma réservation de Bureau 2")
    page.keyboard.press("Enter")
    expect(row).to_have_attribute("data-status", "free")
    expect(page.locator("#toast")).to_contain_text("Réservation annulée.")

    # My bookings, still by keyboard: the navigation link, then the cancelled booking is listed.
    page.keyboard.press("Shift+Tab")
    tab_to(page, "a[href='/app/bookings']")
    page.keyboard.press("Enter")
    expect(page.locator("section[aria-labelledby=past-title]")).to_contain_text("Bureau 2")


def test_another_browser_sees_the_desk_turn_busy_within_2_s(web_app, web_place, new_context):
    day = tomorrow()
    watcher = sign_in(new_context(), web_app.url, web_place.emails[2], "/app/desks")
    open_floor(watcher, web_place, day)
    expect(watcher.locator("#live-state")).to_have_class("live-state live-state--open")
    booker = sign_in(new_context(), web_app.url, web_place.emails[0], "/app/desks")
    open_floor(booker, web_place, day)
    watched = watcher.locator("svg.floor-map g[data-desk='D003']")
    expect(watched).to_have_attribute("data-status", "free")
    watcher.evaluate("window.sameDocument = true")
    booker.locator("svg.floor-map g[data-desk='D003']").click()
    expect(booker.locator("svg.floor-map g[data-desk='D003']")).to_have_attribute("data-status", "mine")
    expect(watched).to_have_attribute("data-status", "booked", timeout=2_000)
    expect(watcher.locator("g[data-marks='D003'] text.desk__glyph")).to_have_text("✕")
    # The watcher is in the booker's team: their seat is named on the map once presence knows it.
    expect(watcher.locator("g[data-marks='D003'] text.desk__mate")).to_have_text("Agent0", timeout=10_000)
    expect(watched).to_have_attribute("aria-label", re.compile(r"collègue : Agent0 Web"))
    assert watcher.evaluate("window.sameDocument === true")  # no reload
