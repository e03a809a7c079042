"""Calendar sync administered through the real gateway and booking service,
against the real Radicale: connect a site, map a room, "sync now", and the
service's own timer picking up a meeting made in the calendar."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from tests.support.data import make_place
from tests.support.radicale import ical_event

pytestmark = pytest.mark.e2e


@pytest.fixture
def admin(issue):
    return {"Authorization": f"Bearer {issue('admin@mairie-test.fr', 'admin')}"}


def test_an_admin_connects_a_site_maps_a_room_and_syncs(gateway, booking_db_url, radicale, admin, issue):
    place = make_place(booking_db_url, desks=0, rooms=2)
    other = make_place(booking_db_url, desks=0, rooms=1)
    agent = {"Authorization": f"Bearer {issue(place.emails[0], 'agent', person_id=place.people[0])}"}
    other_admin = {"Authorization": "Bearer " + issue("sa@mairie-test.fr", "site_admin", site_ids=[other.site_id])}
    calendar = radicale.new_calendar()
    start = (datetime.now(timezone.utc) + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    radicale.put(calendar, "api1", ical_event("api1@tb", start, start + timedelta(hours=1), "Jury",
                                              organiser=place.emails[1]))
    site = f"/api/v1/admin/sites/{place.site_id}/calendar"
    with httpx.Client(base_url=gateway.url, timeout=30) as api:
        connection = {"backend": "caldav", "url": radicale.url, "interval_seconds": 5}
        assert api.put(site, json=connection, headers=agent).status_code == 403
        assert api.put(site, json=connection, headers=other_admin).status_code == 403
        own_admin = {"Authorization": "Bearer " + issue("sa2@mairie-test.fr", "site_admin", site_ids=[place.site_id])}
        assert api.put(site, json=connection, headers=own_admin).status_code == 403  # administrators only
        secret = api.put(site, json={**connection, "password": "hunter2"}, headers=admin)
        assert secret.status_code == 422  # credentials never go through the API
        bad = api.put(site, json={**connection, "url": "ftp://calendar"}, headers=admin)
        assert bad.status_code == 422 and bad.json()["error"] == "invalid"
        put = api.put(site, json={**connection, "interval_seconds": 3600}, headers=admin)
        assert put.status_code == 200, put.text
        assert put.json()["backend"] == "caldav" and "password" not in put.text
        desk_like = api.put(f"/api/v1/admin/rooms/{other.rooms[0]}/calendar", json={"calendar_ref": calendar},
                            headers=admin)
        assert desk_like.status_code == 409  # that site has no connection yet
        mapped = api.put(f"/api/v1/admin/rooms/{place.rooms[0]}/calendar", json={"calendar_ref": calendar},
                         headers=admin)
        assert mapped.status_code == 200, mapped.text

        run = api.post(f"{site}/sync", headers=own_admin)  # a site admin of the site may sync
        assert run.status_code == 200, run.text
        assert run.json()["status"] == "ok" and run.json()["counts"]["created"] == 1 and run.json()["calls"] == 1
        bookings = api.get("/api/v1/bookings", params={"resource_id": place.rooms[0],
                                                       "from": start.isoformat(),
                                                       "to": (start + timedelta(hours=1)).isoformat()},
                           headers=admin)
        assert [b["source"] for b in bookings.json()] == ["calendar"]
        settings = api.get(site, headers=admin).json()
        assert settings["rooms"][0]["calendar_ref"] == calendar and settings["runs"][0]["trigger"] == "manual"

        # The service's own timer: with a 5 s interval, a new meeting arrives unasked.
        api.put(site, json=connection, headers=admin)
        later = start + timedelta(hours=3)
        radicale.put(calendar, "api2", ical_event("api2@tb", later, later + timedelta(hours=1), "Timer"))
        deadline = time.monotonic() + 60
        found = []
        while time.monotonic() < deadline and not found:
            found = api.get("/api/v1/bookings", params={"resource_id": place.rooms[0], "from": later.isoformat(),
                                                         "to": (later + timedelta(hours=1)).isoformat()},
                            headers=admin).json()
            time.sleep(1)
        assert [b["title"] for b in found] == ["Timer"]
        runs = api.get(f"{site}/runs", headers=admin).json()
        assert any(r["trigger"] == "timer" for r in runs)
        api.put(site, json={**connection, "enabled": False}, headers=admin)


def test_a_room_booked_in_escale_reaches_its_calendar_without_waiting_for_a_round(
        gateway, booking_db_url, radicale, admin, issue):
    place = make_place(booking_db_url, desks=0, rooms=1)
    agent = {"Authorization": f"Bearer {issue(place.emails[0], 'agent', person_id=place.people[0])}"}
    calendar = radicale.new_calendar()
    with httpx.Client(base_url=gateway.url, timeout=30) as api:
        site = f"/api/v1/admin/sites/{place.site_id}/calendar"
        # An hour between rounds: only the booking's own event can bring it there quickly.
        assert api.put(site, json={"backend": "caldav", "url": radicale.url, "interval_seconds": 3600},
                       headers=admin).status_code == 200
        api.put(f"/api/v1/admin/rooms/{place.rooms[0]}/calendar", json={"calendar_ref": calendar}, headers=admin)
        assert api.post(f"{site}/sync", headers=admin).json()["status"] == "ok"
        start = (datetime.now(timezone.utc) + timedelta(days=2)).replace(hour=10, minute=0, second=0, microsecond=0)
        made = api.post("/api/v1/bookings", headers=agent,
                        json={"resource_id": place.rooms[0], "start": start.isoformat(),
                              "end": (start + timedelta(hours=1)).isoformat(), "title": "Point projet"})
        assert made.status_code == 201, made.text
        booking_id = made.json()["id"]
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not radicale.events(calendar):
            time.sleep(0.2)
        [data] = radicale.events(calendar).values()
        assert f"booking-{booking_id}@escale" in data and "Point projet" in data
        assert api.delete(f"/api/v1/bookings/{booking_id}", headers=agent).status_code == 200
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and radicale.events(calendar):
            time.sleep(0.2)
        assert radicale.events(calendar) == {}
        api.put(site, json={"backend": "caldav", "url": radicale.url, "enabled": False}, headers=admin)
