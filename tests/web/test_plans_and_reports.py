"""Floor plans and the occupancy report through the real gateway, and an
admin placing a desk on an uploaded plan by dragging it in the browser."""

from datetime import timedelta

import httpx
import pytest
from playwright.sync_api import expect

from tests.support.clock import paris_today, slot_now

from .conftest import ADMIN_EMAIL, sign_in

pytestmark = pytest.mark.e2e

PLAN = (b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1000 600">'
        b'<rect x="10" y="10" width="980" height="580" fill="#eef" stroke="#333"/></svg>')


def test_an_admin_uploads_a_plan_everyone_reads_it_and_agents_may_not_write(web_app, web_place, issue):
    api = f"{web_app.url}/api/v1"
    floor = web_place.floor_id
    agent = {"Authorization": f"Bearer {issue(web_place.emails[3], 'agent')}"}
    refused = httpx.put(f"{api}/floors/{floor}/plan", content=PLAN,
                        headers={**agent, "Content-Type": "image/svg+xml"})
    assert refused.status_code == 403
    unsafe = httpx.put(f"{api}/floors/{floor}/plan", content=PLAN.replace(b"<rect", b"<script>x()</script><rect"),
                       headers={**web_place.admin, "Content-Type": "image/svg+xml", "Accept-Language": "en"})
    assert unsafe.status_code == 422 and "scripts" in unsafe.json()["message"]
    saved = httpx.put(f"{api}/floors/{floor}/plan", content=PLAN,
                      headers={**web_place.admin, "Content-Type": "image/svg+xml"})
    assert saved.status_code == 200, saved.text
    assert saved.json()["width"] == 1000 and saved.json()["height"] == 600
    info = httpx.get(f"{api}/floors/{floor}/plan-info", headers=agent).json()
    assert info["sha256"] == saved.json()["sha256"]
    image = httpx.get(f"{api}/floors/{floor}/plan", headers=agent)
    assert image.content == PLAN and image.headers["Content-Type"] == "image/svg+xml"
    assert "sandbox" in image.headers["Content-Security-Policy"]
    again = httpx.get(f"{api}/floors/{floor}/plan", headers={**agent, "If-None-Match": image.headers["ETag"]})
    assert again.status_code == 304
    tree = httpx.get(f"{api}/sites/{web_place.site_id}", headers=agent).json()
    assert tree["buildings"][0]["floors"][0]["plan_width"] == 1000


def test_the_occupancy_report_counts_booked_checked_in_and_no_shows(web_app, web_place, issue):
    api = f"{web_app.url}/api/v1"
    person = httpx.get(f"{api}/people", params={"q": web_place.emails[4]}, headers=web_place.admin).json()[0]
    agent = {"Authorization": f"Bearer {issue(web_place.emails[4], 'agent', person_id=person['id'])}"}
    desks = httpx.get(f"{api}/resources", params={"floor_id": web_place.floor_id, "kind": "desk"},
                      headers=agent).json()
    desk = next(d for d in desks if d["code"] == "D007")
    start, end = slot_now()
    booking = httpx.post(f"{api}/bookings", headers=agent, json={
        "resource_id": desk["id"], "start": start.isoformat(), "end": end.isoformat()})
    assert booking.status_code == 201, booking.text
    assert httpx.post(f"{api}/bookings/{booking.json()['id']}/check-in", headers=agent).status_code == 200
    today = paris_today()
    query = {"site_id": web_place.site_id, "from": (today - timedelta(days=6)).isoformat(), "to": today.isoformat()}
    assert httpx.get(f"{api}/reports/occupancy", params=query, headers=agent).status_code == 403
    report = httpx.get(f"{api}/reports/occupancy", params=query, headers=web_place.admin)
    assert report.status_code == 200, report.text
    body = report.json()
    assert len(body["days"]) == 7
    assert body["totals"]["booked"] >= 1 and body["totals"]["checked_in"] >= 1
    assert sum(d["booked"] for d in body["days"]) == body["totals"]["booked"]
    assert all(d["booked"] >= d["checked_in"] for d in body["days"])
    assert any(z["zone_code"] == "open" and z["checked_in"] >= 1 for z in body["zones"])
    csv_file = httpx.get(f"{api}/reports/occupancy.csv", params=query, headers=web_place.admin)
    assert csv_file.headers["Content-Type"].startswith("text/csv")
    assert csv_file.text.splitlines()[0] == "scope,date_or_zone,booked,checked_in,no_shows,no_show_rate"
    assert csv_file.text.splitlines()[-1].startswith("total,")
    backwards = httpx.get(f"{api}/reports/occupancy", headers=web_place.admin,
                          params={**query, "from": query["to"], "to": query["from"]})
    assert backwards.status_code == 422


def test_an_admin_drags_a_desk_to_its_place_on_the_plan(web_app, web_place, new_context):
    api = f"{web_app.url}/api/v1"
    assert httpx.put(f"{api}/floors/{web_place.floor_id}/plan", content=PLAN,
                     headers={**web_place.admin, "Content-Type": "image/svg+xml"}).status_code == 200
    page = sign_in(new_context(), web_app.url, ADMIN_EMAIL, "/app/admin?tab=plan")
    page.select_option("select[name=site]", web_place.site_id)
    page.select_option("select[name=floor]", web_place.floor_id)
    desk = page.locator("svg.floor-map--edit g[data-desk='D005']")
    expect(desk).to_be_visible()
    expect(page.locator("svg.floor-map--edit image")).to_have_count(1)  # the uploaded plan behind the desks
    box = page.locator("svg.floor-map--edit").bounding_box()
    target = (box["x"] + box["width"] * 0.8, box["y"] + box["height"] * 0.75)  # about (800, 450) in plan units
    desk.hover()
    page.mouse.down()
    page.mouse.move(*target, steps=8)
    page.mouse.up()
    expect(page.locator(".plan-editor [role=status]")).to_contain_text("Bureau 5 placé en")
    moved = next(r for r in httpx.get(f"{api}/resources", params={"floor_id": web_place.floor_id},
                                      headers=web_place.admin).json() if r["code"] == "D005")
    assert abs(moved["x"] - 800) < 30 and abs(moved["y"] - 450) < 30, moved
    # The keyboard moves it too.
    desk.focus()
    page.keyboard.press("ArrowLeft")
    expect(page.locator(".plan-editor [role=status]")).to_contain_text(f"placé en {round(moved['x'] - 1000 / 70 / 2)}")


def test_an_admin_renames_a_resource_and_a_delete_asks_first(web_app, web_place, new_context):
    page = sign_in(new_context(), web_app.url, ADMIN_EMAIL, "/app/admin")
    page.select_option("select[name=site]", web_place.site_id)
    row = page.locator("table.data tr", has_text="R01")
    row.get_by_role("button", name="Modifier Salle 1").click()
    dialog = page.get_by_role("dialog", name="Modifier la ressource")
    dialog.get_by_label("Nom").fill("Salle Loire")
    dialog.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#toast")).to_contain_text("Enregistré.")
    expect(page.locator("table.data tr", has_text="R01")).to_contain_text("Salle Loire")
    # A floor with zones inside cannot go: the dialog asks, then shows the service's refusal.
    page.get_by_role("button", name="Supprimer Étage 1").click()
    confirm = page.get_by_role("dialog", name="Supprimer Étage 1 ?")
    confirm.get_by_role("button", name="Supprimer").click()
    expect(confirm.get_by_role("alert")).not_to_be_empty()
    confirm.get_by_role("button", name="Fermer").click()
    expect(page.locator(".tree-list")).to_contain_text("Étage 1")
