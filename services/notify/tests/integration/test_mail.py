"""Email end to end: the real booking service publishes its events, the real
notify service consumes them and sends to a real SMTP server (aiosmtpd)."""

import json
import time
import uuid
from datetime import datetime, timedelta, timezone

import icalendar
import psycopg
import pytest
from kombu import Connection, Exchange, Producer
from nameko.standalone.rpc import ServiceRpcProxy

from tests.support.notify import ADMIN
from tests.support.clock import paris_today

pytestmark = pytest.mark.integration


@pytest.fixture
def booking_rpc(booking_service, amqp_uri):
    with ServiceRpcProxy("booking", {"AMQP_URI": amqp_uri}, timeout=10) as proxy:
        yield proxy


def day(offset=2):
    return (paris_today() + timedelta(days=offset)).isoformat()


def parts(message):
    """(text, html, calendar part, attachment) of a confirmation email."""
    text = html = calendar = attachment = None
    for part in message.walk():
        ctype = part.get_content_type()
        if ctype == "text/plain":
            text = part.get_content()
        elif ctype == "text/html":
            html = part.get_content()
        elif ctype == "text/calendar":
            calendar = part
        elif ctype == "application/ics":
            attachment = part
    return text, html, calendar, attachment


def invitation(part) -> icalendar.Calendar:
    payload = part.get_payload(decode=True)
    return icalendar.Calendar.from_ical(payload)


def the_event(cal: icalendar.Calendar):
    (event,) = cal.walk("VEVENT")
    return event


def test_confirmation_then_cancellation_carry_request_then_cancel(notify_service, smtp_server,
                                                                    booking_rpc, place):
    actor = {"person_id": place.people[0], "role": "agent"}
    email = place.emails[0]
    booked = booking_rpc.create_booking(actor=actor, request={
        "resource_id": place.desks[0], "date": day(), "period": "morning"})["booking"]

    (confirmation,) = smtp_server.wait_for(email)
    assert confirmation["Subject"].startswith("Réservation confirmée : Bureau 0")
    assert confirmation["From"] == "Escale <escale@mairie-test.fr>"
    assert confirmation["Content-Language"] == "fr"
    text, html, calendar, attachment = parts(confirmation)
    assert "Votre réservation est confirmée : le bureau Bureau 0" in text
    assert "<p>Votre réservation est confirmée" in html and "<html lang=\"fr\">" in html
    assert calendar.get_content_type() == "text/calendar"
    assert calendar.get_param("method") == "REQUEST"
    assert attachment.get_filename() == "invite.ics"
    request = invitation(attachment)
    assert request["METHOD"] == "REQUEST" and invitation(calendar)["METHOD"] == "REQUEST"
    event = the_event(request)
    assert str(event["UID"]) == f"booking-{booked['id']}@escale"
    assert int(event["SEQUENCE"]) == 0
    assert event.decoded("DTSTART") == datetime.fromisoformat(booked["start"])
    assert event.decoded("DTEND") == datetime.fromisoformat(booked["end"])
    assert str(event["ATTENDEE"]) == f"mailto:{email}"
    assert str(event["ORGANIZER"]) == "mailto:escale@mairie-test.fr"

    time.sleep(1.1)  # the cancellation's SEQUENCE counts seconds since the booking
    booking_rpc.cancel_booking(actor=actor, booking_id=booked["id"])
    cancellation = smtp_server.wait_for(email, 2)[1]
    assert cancellation["Subject"].startswith("Réservation annulée")
    _, _, calendar, attachment = parts(cancellation)
    assert calendar.get_param("method") == "CANCEL"
    cancel = invitation(attachment)
    assert cancel["METHOD"] == "CANCEL"
    cancelled = the_event(cancel)
    assert str(cancelled["UID"]) == str(event["UID"])
    assert str(cancelled["STATUS"]) == "CANCELLED"
    assert int(cancelled["SEQUENCE"]) > int(event["SEQUENCE"])


def test_the_persons_language_is_used(notify_service, smtp_server, booking_rpc, place,
                                      booking_db_url):
    with psycopg.connect(booking_db_url) as conn:
        conn.execute("UPDATE person SET language = 'en' WHERE id = %s", (place.people[1],))
    booking_rpc.create_booking(actor={"person_id": place.people[1], "role": "agent"}, request={
        "resource_id": place.desks[1], "date": day(3), "period": "day"})
    (message,) = smtp_server.wait_for(place.emails[1])
    assert message["Subject"].startswith("Booking confirmed: Bureau 1")
    assert message["Content-Language"] == "en"
    text, html, _, _ = parts(message)
    assert "Your booking is confirmed: desk Bureau 1" in text
    assert '<html lang="en">' in html


def _event(place, person_index=2):
    booking_id = str(uuid.uuid4())
    start = datetime.now(timezone.utc) + timedelta(days=4)
    return {
        "v": 1, "event_id": str(uuid.uuid4()), "type": "booking.created",
        "occurred_at": datetime.now(timezone.utc).isoformat(),
        "booking": {"id": booking_id, "status": "confirmed", "start": start.isoformat(),
                    "end": (start + timedelta(hours=2)).isoformat(),
                    "resource_id": place.rooms[0], "resource_kind": "room",
                    "resource_name": "Salle 0", "site_id": place.site_id,
                    "person_id": place.people[person_index],
                    "created_at": datetime.now(timezone.utc).isoformat()},
        "person": {"id": place.people[person_index], "email": place.emails[person_index],
                   "display_name": "Agent Test", "language": "fr"},
        "resource": {"id": place.rooms[0], "code": "R00", "name": "Salle 0", "kind": "room",
                     "site_id": place.site_id},
        "site": {"id": place.site_id, "name": "Site test", "timezone": "Europe/Paris"},
    }


def publish(amqp_uri, event):
    exchange = Exchange("booking.events", type="topic", durable=True)
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as conn:
        producer = Producer(conn.channel(), exchange=exchange, serializer="json")
        producer.publish(event, routing_key=event["type"], delivery_mode=2)


def test_the_same_event_twice_sends_one_email(notify_service, smtp_server, amqp_uri, place,
                                              notify_db_url):
    event = _event(place)
    publish(amqp_uri, event)
    publish(amqp_uri, json.loads(json.dumps(event)))
    smtp_server.wait_for(place.emails[2])
    time.sleep(1.5)  # several ticks: a second message would have gone by now
    assert len(smtp_server.to(place.emails[2])) == 1
    with psycopg.connect(notify_db_url) as conn:
        rows = conn.execute("SELECT status FROM delivery WHERE event_id = %s",
                            (event["event_id"],)).fetchall()
    assert rows == [("sent",)]


def _delivery(notify_db_url, event_id):
    with psycopg.connect(notify_db_url) as conn:
        return conn.execute(
            "SELECT id::text, status, attempts, last_error, message FROM delivery "
            "WHERE event_id = %s AND channel = 'email'", (event_id,)).fetchone()


def test_smtp_down_is_retried_then_dead_lettered_and_replayed(notify_service, smtp_server,
                                                              amqp_uri, place, notify_db_url,
                                                              notify_rpc):
    event = _event(place, person_index=0)
    address = place.emails[0]
    already = len(smtp_server.to(address))
    smtp_server.down()
    try:
        publish(amqp_uri, event)
        deadline = time.monotonic() + 20
        row = None
        while time.monotonic() < deadline:
            row = _delivery(notify_db_url, event["event_id"])
            if row and row[1] == "dead":
                break
            time.sleep(0.1)
        delivery_id, status, attempts, last_error, message = row
        assert status == "dead" and attempts == 3       # ESCALE_NOTIFY_MAX_ATTEMPTS
        assert last_error.startswith("SMTP unreachable")
        assert message["to"] == address and message["ics"]  # nothing lost
        dead = notify_rpc.list_dead_letters(actor=ADMIN)["items"]
        assert delivery_id in [d["id"] for d in dead]
        assert "message" not in dead[0] and "to" not in dead[0]  # ids, not personal data
    finally:
        smtp_server.up()
    assert notify_rpc.replay_dead_letters(actor=ADMIN, ids=[delivery_id]) == {"replayed": 1}
    messages = smtp_server.wait_for(address, already + 1)
    assert messages[-1]["Message-ID"] == f"<{delivery_id}@escale>"
    deadline = time.monotonic() + 5  # the ledger is stamped just after the SMTP answer
    while _delivery(notify_db_url, event["event_id"])[1] != "sent" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _delivery(notify_db_url, event["event_id"])[1] == "sent"
    assert delivery_id not in [d["id"] for d in
                               notify_rpc.list_dead_letters(actor=ADMIN)["items"]]


def test_dead_letters_are_for_admins_only(notify_rpc, place):
    from nameko.exceptions import RemoteError

    with pytest.raises(RemoteError) as refused:
        notify_rpc.list_dead_letters(actor={"person_id": place.people[0], "role": "agent"})
    assert refused.value.exc_type == "Forbidden"


def test_preferences_route_messages_and_none_sends_nothing(notify_service, smtp_server, amqp_uri,
                                                           place, notify_rpc, notify_db_url):
    actor = {"person_id": place.people[1], "role": "agent"}
    prefs = notify_rpc.set_preferences(actor=actor, preferences={
        "channels": {"confirmation": []}, "reminder": "morning_of",
        "quiet_hours": {"start": "22:00", "end": "07:00"}})
    assert prefs["channels"]["confirmation"] == [] and prefs["reminder"] == "morning_of"
    assert notify_rpc.get_preferences(actor=actor)["quiet_hours"] == {"start": "22:00",
                                                                       "end": "07:00"}
    before = len(smtp_server.to(place.emails[1]))
    event = _event(place, person_index=1)
    publish(amqp_uri, event)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with psycopg.connect(notify_db_url) as conn:
            scheduled = conn.execute("SELECT kind FROM scheduled WHERE booking_id = %s",
                                     (event["booking"]["id"],)).fetchall()
        if scheduled:
            break
        time.sleep(0.1)
    assert ("reminder",) in scheduled
    time.sleep(1.0)
    assert len(smtp_server.to(place.emails[1])) == before


def test_an_unusable_event_is_dropped_and_the_next_one_still_sent(notify_service, smtp_server,
                                                                  amqp_uri, place):
    broken = _event(place, person_index=1)
    del broken["booking"]["start"]
    publish(amqp_uri, broken)
    good = _event(place, person_index=1)
    publish(amqp_uri, good)
    (message,) = smtp_server.wait_for(place.emails[1])
    assert message["Subject"].startswith("Réservation confirmée : Salle 0")


def test_health_readiness_and_metrics(notify_service, smtp_server, amqp_uri, place):
    import httpx

    publish(amqp_uri, _event(place, person_index=0))
    smtp_server.wait_for(place.emails[0])
    assert httpx.get(f"{notify_service.url}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{notify_service.url}/readyz").json() == {"status": "ready"}
    metrics = httpx.get(f"{notify_service.url}/metrics").text
    assert 'escale_notify_messages_total{outcome="sent"}' in metrics
    assert 'escale_notify_ledger_messages{status="sent"}' in metrics
    assert 'escale_notify_calls_total{method="on_booking_created",outcome="ok"}' in metrics
