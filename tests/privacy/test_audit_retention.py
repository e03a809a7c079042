"""The audit log (an admin's export and a rule change are recorded, with
ids only) and the retention job (what is past its time goes, what is
recent stays), through the API against the real services."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import psycopg
import pytest
from psycopg.types.json import Jsonb

from .conftest import insert_booking

pytestmark = pytest.mark.e2e


def test_audit_log_records_an_admin_export_and_a_rule_change(api, place, subject, colleague, admin,
                                                              gateway_db_url):
    since = (datetime.now(timezone.utc) - timedelta(seconds=5)).isoformat()
    rules = {"max_days_ahead": 60, "max_recurring_days_ahead": 120, "max_duration_minutes": 1440,
             "checkin_opens_minutes_before": 15, "release_after_minutes": 30}
    answer = api.put(f"/sites/{place.site_id}/rules/desk", headers=admin["headers"], json=rules)
    assert answer.status_code == 200, answer.text
    assert api.get(f"/admin/people/{subject['id']}/export", headers=admin["headers"]).status_code == 200
    assert api.get("/bookings", headers=admin["headers"], params={"person_id": subject["id"]}).status_code == 200
    # An agent's own export and reads of colleagues are not admin actions: not logged.
    assert api.get("/me/export", headers=colleague["headers"]).status_code == 200
    assert api.get(f"/presence/{subject['id']}", headers=colleague["headers"]).status_code in (200, 503)
    assert api.get("/bookings", headers=colleague["headers"], params={"person_id": subject["id"]}).status_code == 200

    page = api.get("/admin/audit", headers=admin["headers"],
                   params={"actor": admin["id"], "since": since})
    assert page.status_code == 200, page.text
    entries = page.json()["items"]
    assert [(e["action"], e["operation"]) for e in entries] == [
        ("booking.read", "list_bookings"), ("personal_data.manage", "export_person"),
        ("rules.manage", "set_rules")]
    read, export, rule = entries
    assert read["target_person_id"] == subject["id"]
    assert export["target_person_id"] == subject["id"] and export["actor_role"] == "admin"
    assert rule["target"] == f"id={place.site_id};kind=desk" and rule["status"] == 200
    assert all(e["actor_person_id"] == admin["id"] for e in entries)
    about = api.get("/admin/audit", headers=admin["headers"],
                    params={"person": subject["id"], "since": since}).json()["items"]
    assert {e["actor_person_id"] for e in about} == {admin["id"]}  # the colleague's reads: not logged

    only_rules = api.get("/admin/audit", headers=admin["headers"],
                         params={"action": "rules.manage", "since": since}).json()["items"]
    assert [e["id"] for e in only_rules] == [rule["id"]]
    assert api.get("/admin/audit", headers=colleague["headers"]).status_code == 403
    assert api.get("/admin/audit", headers=admin["headers"],
                   params={"action": "Not An Action"}).status_code == 422

    with psycopg.connect(gateway_db_url) as conn:
        text = " ".join(r[0] for r in conn.execute("SELECT a::text FROM audit_log a").fetchall())
    assert subject["email"] not in text and subject["family"] not in text  # ids, never names


def test_retention_job_deletes_what_is_past_its_time_and_keeps_the_rest(
        api, place, subject, admin, booking_db_url, notify_db_url, gateway_db_url):
    now = datetime.now(timezone.utc)
    old = insert_booking(booking_db_url, place.desks[2], subject["id"], now - timedelta(days=500),
                         now - timedelta(days=500) + timedelta(hours=8))
    recent = insert_booking(booking_db_url, place.desks[2], subject["id"], now - timedelta(days=60),
                            now - timedelta(days=60) + timedelta(hours=8))
    with psycopg.connect(notify_db_url) as conn:
        for age, status in ((200, "sent"), (200, "dead"), (10, "sent"), (200, "pending")):
            conn.execute(
                "INSERT INTO delivery (id, event_id, channel, kind, person_id, message, status, created_at) "
                "VALUES (gen_random_uuid(), gen_random_uuid(), 'email', 'confirmation', %s, %s, %s, %s)",
                (subject["id"], Jsonb({"to": subject["email"]}), status, now - timedelta(days=age)))
    with psycopg.connect(gateway_db_url) as conn:
        for months in (14, 2):
            conn.execute(
                "INSERT INTO audit_log (at, actor_role, action, operation, method, status) "
                "VALUES (%s, 'admin', 'rules.manage', 'set_rules', 'PUT', 200)",
                (now - timedelta(days=31 * months),))

    policies = api.get("/admin/retention", headers=admin["headers"])
    assert policies.status_code == 200, policies.text
    mine = [p for p in policies.json() if p["organisation_id"] == subject["organisation_id"]][0]
    assert (mine["bookings_months"], mine["notification_log_days"], mine["audit_log_months"]) == (13, 90, 12)
    changed = api.patch(f"/admin/retention/{subject['organisation_id']}", headers=admin["headers"],
                        json={"bookings_months": 12})
    assert changed.status_code == 200 and changed.json()["bookings_months"] == 12, changed.text
    assert api.patch(f"/admin/retention/{subject['organisation_id']}", headers=admin["headers"],
                     json={"bookings_months": 0}).status_code == 422
    assert api.patch(f"/admin/retention/{subject['organisation_id']}", headers=subject["headers"],
                     json={"bookings_months": 24}).status_code == 403

    ran = api.post("/admin/retention/run", headers=admin["headers"])
    assert ran.status_code == 200, ran.text
    assert ran.json()["booking"]["bookings"] >= 1 and ran.json()["gateway"]["audit_log"] >= 1

    with psycopg.connect(booking_db_url) as conn:
        kept = {str(r[0]) for r in conn.execute("SELECT id FROM booking WHERE id = ANY(%s::uuid[])",
                                                ([old, recent],))}
    assert kept == {recent}
    with psycopg.connect(notify_db_url) as conn:
        left = sorted(conn.execute(
            "SELECT status, created_at > now() - interval '30 days' FROM delivery WHERE person_id = %s "
            "AND kind = 'confirmation' AND booking_id IS NULL", (subject["id"],)).fetchall())
    assert left == [("pending", False), ("sent", True)]  # a message still to send is never dropped
    with psycopg.connect(gateway_db_url) as conn:
        oldest = conn.execute("SELECT min(at) FROM audit_log").fetchone()[0]
    assert oldest > now - timedelta(days=366)
    log = api.get("/admin/audit", headers=admin["headers"], params={"action": "retention.manage"}).json()
    assert {e["operation"] for e in log["items"] if e["actor_person_id"] == admin["id"]} == \
        {"set_retention", "run_retention"}


def test_the_nightly_job_runs_once_a_day_whatever_the_replicas(booking_db_url):
    from booking.personal_data import claim_run

    day = datetime.now(timezone.utc).date() + timedelta(days=3650)  # a day no other test uses
    with psycopg.connect(booking_db_url, autocommit=True) as first, \
            psycopg.connect(booking_db_url, autocommit=True) as second:
        assert claim_run(first, "booking-test", day) is True
        assert claim_run(second, "booking-test", day) is False
        assert claim_run(second, "booking-test", day + timedelta(days=1)) is True
