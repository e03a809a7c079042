"""Private iCalendar feeds through the real gateway and booking service, as
an agent, an administrator and a calendar client would use them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import httpx
import icalendar
import psycopg
import pytest
import vobject

from tests.support.data import make_place

pytestmark = pytest.mark.e2e


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def admin(issue):
    return bearer(issue("admin@mairie-test.fr", "admin"))


def agent_headers(issue, place, i):
    return bearer(issue(place.emails[i], "agent", person_id=place.people[i]))


def slot(days, hours=2, at=9):
    start = (datetime.now(timezone.utc) + timedelta(days=days)).replace(hour=at, minute=0, second=0,
                                                                       microsecond=0)
    return start.isoformat(), (start + timedelta(hours=hours)).isoformat()


def book(api, headers, resource_id, days, title="", at=9):
    start, end = slot(days, at=at)
    made = api.post("/api/v1/bookings", headers=headers,
                    json={"resource_id": resource_id, "start": start, "end": end, "title": title})
    assert made.status_code == 201, made.text
    return made.json()


def fetch(url, **headers):
    """GET a feed as a calendar client does: no bearer token, only the secret URL."""
    return httpx.get(url, headers=headers, timeout=10)


def parsed(response):
    """Both parsers' events by UID; both must read the whole feed."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    first = icalendar.Calendar.from_ical(response.content)
    second = vobject.readOne(response.text)
    assert [str(t["TZID"]) for t in first.walk("VTIMEZONE")] == ["Europe/Paris"]
    one = {str(e["UID"]): e for e in first.walk("VEVENT")}
    two = {e.uid.value: e for e in getattr(second, "vevent_list", [])}
    assert set(one) == set(two)
    return one


def test_an_agent_subscribes_to_their_own_bookings_and_revokes_the_url(gateway, place, issue):
    me, colleague = agent_headers(issue, place, 0), agent_headers(issue, place, 1)
    with httpx.Client(base_url=gateway.url, timeout=10) as api:
        mine = book(api, me, place.desks[0], 1)
        theirs = book(api, colleague, place.desks[1], 1)
        created = api.post("/api/v1/me/feeds", headers=me, json={"label": "Outlook"})
        assert created.status_code == 201, created.text
        feed = created.json()
        assert feed["kind"] == "person" and feed["person_id"] == place.people[0]
        assert feed["url"].startswith(gateway.url + "/ical/escf_") and feed["url"].endswith(".ics")
        assert feed["webcal_url"] == "webcal://" + feed["url"].split("://", 1)[1]

        listed = api.get("/api/v1/me/feeds", headers=me).json()
        assert [f["id"] for f in listed] == [feed["id"]] and listed[0]["label"] == "Outlook"
        secret = feed["url"].rsplit("/", 1)[1][:-4]
        assert secret not in api.get("/api/v1/me/feeds", headers=me).text
        assert api.get("/api/v1/me/feeds", headers=colleague).json() == []

        first = fetch(feed["url"])
        events = parsed(first)
        # Only the owner's bookings, never a colleague's.
        assert set(events) == {f"booking-{mine['id']}@escale"}
        assert f"booking-{theirs['id']}@escale" not in first.text
        assert place.emails[1] not in first.text
        event = events[f"booking-{mine['id']}@escale"]
        assert event.decoded("DTSTART") == datetime.fromisoformat(mine["start"])
        assert str(event["STATUS"]) == "CONFIRMED" and int(event["SEQUENCE"]) == 0
        assert str(event["SUMMARY"]) == "Réservation : Bureau 0"

        # Polling is cheap: the same ETag gives a bodiless 304.
        etag = first.headers["ETag"]
        assert first.headers["Last-Modified"]
        again = fetch(feed["url"], **{"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b"" and again.headers["ETag"] == etag
        assert fetch(feed["url"]).content == first.content   # the same bytes (from memory)

        # Cancelled: still there with the same UID, STATUS:CANCELLED and a higher SEQUENCE.
        assert api.delete(f"/api/v1/bookings/{mine['id']}", headers=me).status_code == 200
        changed = fetch(feed["url"], **{"If-None-Match": etag})
        assert changed.headers["ETag"] != etag
        event = parsed(changed)[f"booking-{mine['id']}@escale"]
        assert str(event["STATUS"]) == "CANCELLED" and int(event["SEQUENCE"]) == 1

        # A colleague cannot revoke it; its owner can, and the URL stops at once.
        assert api.delete(f"/api/v1/me/feeds/{feed['id']}", headers=colleague).status_code == 404
        assert api.delete(f"/api/v1/me/feeds/{feed['id']}", headers=me).status_code == 204
        gone = fetch(feed["url"], **{"Accept-Language": "en"})
        assert gone.status_code == 404 and gone.json()["message"] == "Unknown or revoked calendar feed."
        assert api.get("/api/v1/me/feeds", headers=me).json() == []
        assert api.delete(f"/api/v1/me/feeds/{feed['id']}", headers=me).status_code == 404
        assert fetch(feed["url"].replace("escf_", "escf_x")).status_code == 404


def test_bots_and_devices_have_no_feeds(gateway, place, issue):
    bot = bearer(issue("bot@mairie-test.fr", "bot"))
    device = bearer(issue("device@devices.escale.invalid", "device", room_id=place.rooms[0],
                          site_ids=[place.site_id]))
    with httpx.Client(base_url=gateway.url, timeout=10) as api:
        for headers in (bot, device):
            assert api.post("/api/v1/me/feeds", headers=headers, json={}).status_code == 403
            assert api.get("/api/v1/me/feeds", headers=headers).status_code == 403
            assert api.post(f"/api/v1/admin/rooms/{place.rooms[0]}/feeds", headers=headers,
                            json={}).status_code == 403


def test_a_room_feed_shows_the_rooms_meetings_without_who_booked(gateway, booking_db_url, place, issue,
                                                                admin):
    other = make_place(booking_db_url, desks=0, rooms=1, people=1)
    private_place = make_place(booking_db_url, desks=0, rooms=1, people=1)
    with psycopg.connect(booking_db_url) as conn:  # before the gateway ever reads these rooms
        conn.execute("UPDATE resource SET attributes = '{\"private\": true, \"language\": \"en\"}' "
                     "WHERE id = %s", (private_place.rooms[0],))
    me = agent_headers(issue, place, 0)
    site_admin = bearer(issue("sa@mairie-test.fr", "site_admin", site_ids=[place.site_id]))
    other_admin = bearer(issue("sa2@mairie-test.fr", "site_admin", site_ids=[other.site_id]))
    room = place.rooms[0]
    with httpx.Client(base_url=gateway.url, timeout=10) as api:
        assert api.post(f"/api/v1/admin/rooms/{room}/feeds", headers=me, json={}).status_code == 403
        assert api.post(f"/api/v1/admin/rooms/{room}/feeds", headers=other_admin,
                        json={}).status_code == 403
        desk = api.post(f"/api/v1/admin/rooms/{place.desks[0]}/feeds", headers=admin, json={})
        assert desk.status_code == 422 and desk.json()["error"] == "invalid"
        created = api.post(f"/api/v1/admin/rooms/{room}/feeds", headers=site_admin,
                           json={"label": "Accueil"})
        assert created.status_code == 201, created.text
        feed = created.json()
        assert feed["kind"] == "room" and feed["room_id"] == room
        assert [f["id"] for f in api.get(f"/api/v1/admin/rooms/{room}/feeds",
                                         headers=admin).json()] == [feed["id"]]

        meeting = book(api, me, room, 2, title="Comité de direction")
        body = fetch(feed["url"])
        events = parsed(body)
        assert str(events[f"booking-{meeting['id']}@escale"]["SUMMARY"]) == "Comité de direction"
        assert "ORGANIZER" not in body.text
        for leak in (place.emails[0], "Agent0", place.people[0]):
            assert leak not in body.text

        hidden = api.post(f"/api/v1/admin/rooms/{private_place.rooms[0]}/feeds", headers=admin,
                          json={}).json()
        secret_meeting = book(api, agent_headers(issue, private_place, 0), private_place.rooms[0], 2,
                              title="Entretien RH")
        body = fetch(hidden["url"])
        event = parsed(body)[f"booking-{secret_meeting['id']}@escale"]
        assert str(event["SUMMARY"]) == "Booked"   # the room's language, no title
        assert "Entretien" not in body.text and private_place.emails[0] not in body.text

        # Revoked by another admin of the site: the URL stops at once.
        assert api.delete(f"/api/v1/admin/rooms/{room}/feeds/{feed['id']}",
                          headers=other_admin).status_code == 403
        assert api.delete(f"/api/v1/admin/rooms/{room}/feeds/{feed['id']}",
                          headers=admin).status_code == 204
        assert fetch(feed["url"]).status_code == 404


def test_a_feed_polled_too_often_is_told_to_wait(gateway, place, issue):
    from gateway.routes.feeds import MAX_FETCHES

    me = agent_headers(issue, place, 0)
    with httpx.Client(base_url=gateway.url, timeout=10) as api:
        url = api.post("/api/v1/me/feeds", headers=me, json={}).json()["url"]
        statuses = [fetch(url).status_code for _ in range(MAX_FETCHES + 1)]
    assert statuses[:MAX_FETCHES] == [200] * MAX_FETCHES
    assert statuses[-1] == 429
