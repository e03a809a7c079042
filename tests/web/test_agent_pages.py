"""An agent books a recurring meeting room, declares a day on site in My
week, and finds a colleague with "where is"."""

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from tests.support.clock import paris_at, paris_today, slot_now

from .conftest import sign_in, tomorrow

pytestmark = pytest.mark.e2e


def test_a_weekly_meeting_is_booked_and_shows_on_the_rooms_timeline(web_app, web_place, new_context):
    page = sign_in(new_context(), web_app.url, web_place.emails[5], "/app/rooms")
    page.wait_for_selector("main[data-loaded='1']")
    page.select_option("select[name=site]", web_place.site_id)
    page.locator("input[name=date]").fill(tomorrow())
    page.locator("input[name=start]").fill("10:00")
    page.select_option("select[name=duration]", "60")
    page.get_by_label("Nombre de personnes").fill("6")
    page.get_by_label("Objet de la réunion").fill("Point hebdo")
    page.select_option("select[name=repeat]", "weekly")
    page.get_by_label("Nombre d'occurrences").fill("2")
    page.get_by_role("button", name="Chercher une salle").click()
    room = page.locator("li.room[data-room='R00']")
    expect(room).to_contain_text("Libre")
    room.get_by_role("button", name="Réserver Salle 0").click()
    expect(page.locator("#toast")).to_contain_text("2 réunion(s) réservée(s) dans Salle 0.")
    expect(room).to_contain_text("Occupée : 10:00–11:00")
    expect(room.locator(".badge")).to_have_text("Ma réservation")  # the asked slot is now mine
    page.get_by_role("link", name="Mes réservations").click()
    expect(page.locator("section[aria-labelledby=upcoming-title] li.booking", has_text="Salle 0")).to_have_count(2)


def test_my_week_declares_a_day_on_site(web_app, web_place, new_context):
    page = sign_in(new_context(), web_app.url, web_place.emails[3], "/app/")
    page.wait_for_selector("main[data-loaded='1']")
    page.get_by_label("Mon site quand je suis sur place").select_option(web_place.site_id)
    day = paris_today() + timedelta(days=1)
    if day.isoweekday() == 1:  # tomorrow is in next week's page
        page.get_by_role("button", name="Semaine suivante").click()
    card = page.locator(f"li.day[data-day='{day.isoformat()}']")
    card.get_by_label("Ce jour-là").select_option("on_site")
    expect(page.locator("#toast")).to_contain_text("Journée enregistrée")
    expect(card.locator(".day__plan")).to_have_text("Sur site")
    expect(card.locator(".day__plan")).to_have_class("day__plan plan--on_site")  # an icon as well as words


def test_where_is_a_colleague_and_my_teams_on_site(web_app, web_place, new_context):
    page = sign_in(new_context(), web_app.url, web_place.emails[0], "/app/colleagues")
    page.wait_for_selector("main[data-loaded='1']")
    expect(page.locator("table.roster caption")).to_have_text(f"Équipe Équipe {web_place.tag} : qui est sur site")
    search = page.get_by_label("Où est… (nom d'un·e collègue)")
    search.fill(f"agent2 web{web_place.tag}")
    search.press("Enter")
    person = page.locator("li.person", has_text=f"Agent2 Web{web_place.tag}").first
    expect(person).to_be_visible(timeout=15_000)
    expect(person.locator(".presence")).not_to_be_empty()
    expect(person.get_by_role("list", name=f"Joindre Agent2 Web{web_place.tag}")).to_contain_text("Courriel")


def test_check_in_is_offered_while_the_window_is_open(web_app, web_place, new_context, issue):
    import httpx

    api = f"{web_app.url}/api/v1"
    person = httpx.get(f"{api}/people", params={"q": web_place.emails[1]}, headers=web_place.admin).json()[0]
    agent = {"Authorization": f"Bearer {issue(web_place.emails[1], 'agent', person_id=person['id'])}"}
    desks = httpx.get(f"{api}/resources", params={"floor_id": web_place.floor_id, "kind": "desk"}, headers=agent).json()
    desk = next(d for d in desks if d["code"] == "D006")
    # In three days: the keyboard test books a desk tomorrow for the same person, who may hold one desk a day.
    later = httpx.post(f"{api}/bookings", headers=agent, json={
        "resource_id": desk["id"], "start": paris_at(3, 9).isoformat(), "end": paris_at(3, 10).isoformat()})
    start, end = slot_now(after=timedelta(minutes=55))
    current = httpx.post(f"{api}/bookings", headers=agent, json={
        "resource_id": desk["id"], "start": start.isoformat(), "end": end.isoformat()})
    assert later.status_code == 201 and current.status_code == 201, (later.text, current.text)
    page = sign_in(new_context(), web_app.url, web_place.emails[1], "/app/bookings")
    page.wait_for_selector("main[data-loaded='1']")
    now_row = page.locator(f"li[data-booking='{current.json()['id']}']")
    later_row = page.locator(f"li[data-booking='{later.json()['id']}']")
    expect(later_row.get_by_role("button", name="Confirmer ma présence : Bureau 6")).to_have_count(0)  # not yet open
    now_row.get_by_role("button", name="Confirmer ma présence : Bureau 6").click()
    expect(page.locator("#toast")).to_contain_text("Présence confirmée.")
    expect(now_row.locator(".badge")).to_have_text("Présence confirmée")


def _two_days_in_one_week() -> tuple[date, date]:
    """Two coming consecutive days of one week (Monday to Sunday), neither a French holiday."""
    import holidays

    day = paris_today() + timedelta(days=1)
    while True:
        following = day + timedelta(days=1)
        if day.isocalendar()[:2] == following.isocalendar()[:2] and not any(
                d in holidays.France(years=d.year) for d in (day, following)):
            return day, following
        day = following


def test_book_my_usual_desk_for_a_day_on_site(web_app, web_place, new_context, issue):
    import httpx

    api = f"{web_app.url}/api/v1"
    person = httpx.get(f"{api}/people", params={"q": web_place.emails[2]}, headers=web_place.admin).json()[0]
    agent = {"Authorization": f"Bearer {issue(web_place.emails[2], 'agent', person_id=person['id'])}"}
    desks = httpx.get(f"{api}/resources", params={"floor_id": web_place.floor_id, "kind": "desk"}, headers=agent).json()
    usual = next(d for d in desks if d["code"] == "D004")
    first, second = _two_days_in_one_week()
    booked = httpx.post(f"{api}/bookings", headers=agent,
                        json={"resource_id": usual["id"], "date": first.isoformat(), "period": "day"})
    assert booked.status_code == 201, booked.text
    page = sign_in(new_context(), web_app.url, web_place.emails[2], "/app/")
    page.wait_for_selector("main[data-loaded='1']")
    page.get_by_label("Mon site quand je suis sur place").select_option(web_place.site_id)
    expect(page.locator("#week-range")).not_to_be_empty()
    while not page.locator(f"li.day[data-day='{second.isoformat()}']").count():
        shown = page.locator("#week-range").text_content()
        page.get_by_role("button", name="Semaine suivante").click()
        expect(page.locator("#week-range")).not_to_have_text(shown)
    expect(page.locator(".toolbar .hint")).to_have_text(
        "Votre bureau habituel : Bureau 4, pour chaque jour sur site sans bureau.")
    card = page.locator(f"li.day[data-day='{second.isoformat()}']")
    card.get_by_label("Ce jour-là").select_option("on_site")
    expect(card.locator(".day__plan")).to_have_text("Sur site")
    page.get_by_role("button", name="Réserver mon bureau habituel").click()
    expect(page.locator("#toast")).to_have_text("✓ Bureau habituel réservé pour 1 jour(s).")
    expect(card.locator(".day__bookings")).to_contain_text("Bureau 4")
    expect(page.locator(f"li.day[data-day='{first.isoformat()}'] .day__bookings")).to_contain_text("Bureau 4")
