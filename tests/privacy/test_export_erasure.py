"""Export and erasure of a person's data, through the API, against the real
services: the export holds the person's data and nobody else's; erasure
leaves nothing naming them in any database or in the run's Redis keys,
keeps other people's data and the occupancy counts."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import psycopg
import pytest

from tests.support.clock import paris_today, tomorrow_at

from .conftest import eventually, hours_from_now, insert_booking, scan_databases, scan_redis

pytestmark = pytest.mark.e2e


def _give_subject_data(api, place, subject, colleague, admin, booking_db_url):
    """Something of every kind, through the API where the API can make it."""
    me, pid, family = subject["headers"], subject["id"], subject["family"]
    tomorrow = (paris_today() + timedelta(days=1)).isoformat()
    past = insert_booking(booking_db_url, place.rooms[0], pid, hours_from_now(-50), hours_from_now(-49),
                          title=f"Entretien {family}")
    past_other = insert_booking(booking_db_url, place.rooms[0], colleague["id"], hours_from_now(-52),
                                hours_from_now(-51))
    room = api.post("/bookings", headers=me, json={
        "resource_id": place.rooms[0], "start": tomorrow_at(10).isoformat(),
        "end": tomorrow_at(11).isoformat(), "title": f"Point projet {family}"})
    assert room.status_code == 201, room.text
    other_room = api.post("/bookings", headers=colleague["headers"], json={
        "resource_id": place.rooms[0], "start": tomorrow_at(11).isoformat(),
        "end": tomorrow_at(12).isoformat(), "title": "Réunion d'équipe"})
    assert other_room.status_code == 201, other_room.text
    desk = api.post("/bookings", headers=me, json={"resource_id": place.desks[1], "date": tomorrow,
                                                   "period": "day"})
    assert desk.status_code == 201, desk.text
    for path, body in (
        ("/me/contact", {"softphone": f"sip:{family.lower()}@voip.mairie-test.fr",
                         "chat_handle": f"@{family.lower()}", "preferred_channel": "chat"}),
        ("/me/plan", {"days": [{"date": tomorrow, "period": "morning", "status": "remote"}]}),
        ("/me/pattern", {"pattern": [{"weekday": 5, "period": "day", "status": "remote"}]}),
        ("/me/privacy", {"visibility": "teams"}),
        ("/me/status", {"kind": "away", "until": hours_from_now(2).isoformat(),
                        "label": f"à l'accueil avec {family}"}),
    ):
        answer = api.put(path, headers=me, json=body)
        assert answer.status_code == 200, (path, answer.text)
    answer = api.patch("/me/notification-preferences", headers=me,
                       json={"reminder": "morning_of", "quiet_hours": {"start": "20:00", "end": "07:00"}})
    assert answer.status_code == 200, answer.text
    answer = api.put("/admin/chat-identities", headers=admin["headers"], json={
        "platform": "matrix", "external_id": f"@{family.lower()}:tchap.gouv.fr", "person_id": pid})
    assert answer.status_code == 200, answer.text
    feed = api.post("/me/feeds", headers=me, json={"label": f"Outlook de {family}"})
    assert feed.status_code == 201, feed.text
    return {"past": past, "past_other": past_other, "room": room.json()["id"],
            "other_room": other_room.json()["id"], "desk": desk.json()["id"],
            "feed": feed.json()["id"]}


def _calendar_traces(booking_db_url, place, subject):
    """Calendar sync's records naming the subject (made straight in its tables)."""
    with psycopg.connect(booking_db_url) as conn:
        conn.execute("INSERT INTO calendar_connection (site_id, backend, enabled, fallback_person_id) "
                     "VALUES (%s, 'none', false, %s)", (place.site_id, subject["id"]))
        conn.execute("INSERT INTO calendar_person (person_id, site_id, calendar_ref) VALUES (%s, %s, %s)",
                     (subject["id"], place.site_id, f"cal-{subject['tag']}"))
        conn.execute("INSERT INTO calendar_link (resource_id, remote_id, origin, organiser_email) "
                     "VALUES (%s, %s, 'remote', %s)", (place.rooms[0], f"remote-{subject['tag']}",
                                                       subject["email"].upper()))


def _messages_recorded(notify_db_url, pid):
    with psycopg.connect(notify_db_url) as conn:
        n = conn.execute("SELECT count(*) FROM delivery WHERE person_id = %s", (pid,)).fetchone()[0]
    assert n >= 2, n


def _occupancy(booking_db_url, site_id, until):
    with psycopg.connect(booking_db_url) as conn:
        return sorted(conn.execute(
            "SELECT b.resource_id::text, b.status, count(*) FROM booking b JOIN resource r ON r.id = b.resource_id "
            "WHERE r.site_id = %s AND upper(b.during) <= %s GROUP BY 1, 2", (site_id, until)).fetchall())


def test_export_holds_my_data_and_nobody_elses(api, place, subject, colleague, admin, booking_db_url,
                                                notify_db_url):
    ids = _give_subject_data(api, place, subject, colleague, admin, booking_db_url)
    eventually(lambda: _messages_recorded(notify_db_url, subject["id"]))

    answer = api.get("/me/export", headers=subject["headers"])
    assert answer.status_code == 200, answer.text
    assert "attachment" in answer.headers["Content-Disposition"]
    data = answer.json()
    assert data["person_id"] == subject["id"]
    entry = data["booking"]["directory_entry"]
    assert entry["email"] == subject["email"] and entry["chat_handle"] == f"@{subject['family'].lower()}"
    assert [t["code"] for t in entry["teams"]] == ["dsi"]
    statuses = {b["id"]: b["status"] for b in data["booking"]["bookings"]}
    assert statuses == {ids["past"]: "ended", ids["room"]: "confirmed", ids["desk"]: "confirmed"}
    presence = data["presence"]
    assert presence["privacy"] == {"visibility": "teams"}
    assert [(d["slot"], d["status"]) for d in presence["day_plans"]] == [("am", "remote")]
    assert {(p["weekday"], p["status"]) for p in presence["weekly_pattern"]} == {(5, "remote")}
    assert presence["temporary_status"][0]["label"] == f"à l'accueil avec {subject['family']}"
    notify = data["notify"]
    assert notify["preferences"][0]["reminder"] == "morning_of"
    assert notify["chat_identities"][0]["external_id"] == f"@{subject['family'].lower()}:tchap.gouv.fr"
    assert {m["booking_id"] for m in notify["messages"]} >= {ids["room"], ids["desk"]}
    gateway = data["gateway"]
    assert len(gateway["api_tokens"]) == 1 and gateway["api_tokens"][0]["email"] == subject["email"]
    assert [f["id"] for f in gateway["calendar_feeds"]] == [ids["feed"]]
    text = json.dumps(data)
    assert "token_hash" not in text and "esc_" not in text  # metadata only, never a secret
    # The admin's change about the subject (a chat account linked) is an audit entry about them.
    assert any(e["action"] == "notify.manage" and e["target_person_id"] == subject["id"]
               for e in gateway["audit_log"])
    # Nothing about anyone else: the colleague, the room's other bookings.
    for foreign in (colleague["id"], colleague["email"], ids["other_room"], ids["past_other"],
                    "Réunion d'équipe"):
        assert foreign not in text


def test_nobody_but_an_admin_exports_or_erases_someone_else(api, subject, colleague, admin, issue):
    other = colleague["headers"]
    assert api.get(f"/admin/people/{subject['id']}/export", headers=other).status_code == 403
    assert api.post(f"/admin/people/{subject['id']}/erasure", headers=other).status_code == 403
    wrong = api.post("/me/erasure", headers=other, json={"confirm_person_id": subject["id"]})
    assert wrong.status_code == 422 and wrong.json()["field"] == "confirm_person_id"
    bot = {"Authorization": f"Bearer {issue('bot@mairie-test.fr', 'bot')}"}
    assert api.get("/me/export", headers=bot).status_code == 403
    assert api.get("/me/export", headers=subject["headers"]).status_code == 200  # still all there

    answer = api.get(f"/admin/people/{subject['id']}/export", headers=admin["headers"])
    assert answer.status_code == 200, answer.text
    assert answer.json()["booking"]["directory_entry"]["email"] == subject["email"]


def test_erasure_leaves_nothing_naming_the_person(api, place, subject, colleague, admin, booking_db_url,
                                                   gateway_db_url, presence_db_url, notify_db_url,
                                                   redis_prefix):
    ids = _give_subject_data(api, place, subject, colleague, admin, booking_db_url)
    _calendar_traces(booking_db_url, place, subject)
    with psycopg.connect(gateway_db_url) as conn:  # the subject uploaded the floor plan
        conn.execute("INSERT INTO floor_plan (floor_id, content_type, width, height, data, sha256, updated_by) "
                     "VALUES (%s, 'image/svg+xml', 100, 60, '<svg/>', 'x', %s)", (place.floor_id, subject["email"]))
    eventually(lambda: _messages_recorded(notify_db_url, subject["id"]))
    now = datetime.now(timezone.utc)
    occupancy = _occupancy(booking_db_url, place.site_id, now)
    needles = [subject["email"], subject["family"]]
    databases = [booking_db_url, presence_db_url, notify_db_url, gateway_db_url]

    def found_everywhere():  # the scanners do find the person beforehand
        assert scan_databases(databases, needles)
        assert scan_redis(redis_prefix, needles)

    eventually(found_everywhere)

    answer = api.post("/me/erasure", headers=subject["headers"],
                      json={"confirm_person_id": subject["id"]})
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["booking"]["cancelled"] == 2 and result["gateway"]["tokens_deleted"] == 1

    assert api.get("/me", headers=subject["headers"]).status_code == 401  # tokens gone at once

    def nothing_left():
        assert scan_databases(databases, needles) == []
        assert scan_redis(redis_prefix, needles) == []

    eventually(nothing_left)

    # Past bookings stay for statistics, detached from the person; counts unchanged.
    assert _occupancy(booking_db_url, place.site_id, now) == occupancy
    with psycopg.connect(booking_db_url) as conn:
        past = conn.execute("SELECT person_id, title, status FROM booking WHERE id = %s",
                            (ids["past"],)).fetchone()
        future = conn.execute("SELECT status FROM booking WHERE id = ANY(%s::uuid[])",
                              ([ids["room"], ids["desk"]],)).fetchall()
    assert past == (None, "", "ended")
    assert [s for (s,) in future] == ["cancelled", "cancelled"]
    # The room is free again where the subject had it.
    free = api.get("/availability", headers=colleague["headers"], params={
        "start": tomorrow_at(10).isoformat(), "end": tomorrow_at(11).isoformat(),
        "site_id": place.site_id, "kind": "room"})
    assert free.status_code == 200, free.text
    assert {r["id"]: r["status"] for r in free.json()["resources"]}[place.rooms[0]] == "free"

    # Other people's data is intact.
    mine = api.get("/bookings", headers=colleague["headers"], params={"mine": 1}).json()
    assert ids["other_room"] in {b["id"] for b in mine}
    assert api.get("/me", headers=colleague["headers"]).json()["person"]["email"] == colleague["email"]

    # Erasing again is harmless; the audit log kept ids only.
    again = api.post(f"/admin/people/{subject['id']}/erasure", headers=admin["headers"])
    assert again.status_code == 200 and again.json()["booking"]["found"] is False
    log = api.get("/admin/audit", headers=admin["headers"], params={"person": subject["id"]}).json()
    actions = [(e["action"], e["actor_person_id"]) for e in log["items"]]
    assert ("personal_data.erase_own", subject["id"]) in actions
    assert ("personal_data.manage", admin["id"]) in actions


def test_booking_erasure_alone_reaches_presence_and_notify_through_person_erased(
        api, place, subject, colleague, admin, amqp_uri, booking_db_url, presence_db_url,
        notify_db_url, presence_redis_prefix):
    """A fan-out cut short after booking (the gateway stopped) still converges."""
    from nameko.standalone.rpc import ServiceRpcProxy

    _give_subject_data(api, place, subject, colleague, admin, booking_db_url)
    eventually(lambda: _messages_recorded(notify_db_url, subject["id"]))
    needles = [subject["email"], subject["family"]]

    def named_there():
        assert scan_databases([presence_db_url, notify_db_url], needles)
        assert scan_redis(presence_redis_prefix, needles)

    eventually(named_there)
    actor = {"person_id": admin["id"], "role": "admin", "site_ids": [], "room_id": None}
    with ServiceRpcProxy("booking", {"AMQP_URI": amqp_uri}, timeout=30) as booking:
        assert booking.erase_person(actor=actor, person_id=subject["id"])["found"] is True

    def gone():
        assert scan_databases([booking_db_url, presence_db_url, notify_db_url], needles) == []
        assert scan_redis(presence_redis_prefix, needles) == []
        with psycopg.connect(notify_db_url) as conn:
            assert conn.execute("SELECT count(*) FROM preference WHERE person_id = %s",
                                (subject["id"],)).fetchone()[0] == 0
        with psycopg.connect(presence_db_url) as conn:
            assert conn.execute("SELECT count(*) FROM plan_pattern WHERE person_id = %s",
                                (subject["id"],)).fetchone()[0] == 0

    eventually(gone)
