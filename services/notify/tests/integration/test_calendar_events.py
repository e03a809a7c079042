"""Calendar sync's effects on notify, end to end: events on the real broker,
the real notify service, a real SMTP server.

* ``calendar.conflict``: the organiser of the cancelled side gets one email
  (their language; French for an address Escale does not know), however
  many times the event is delivered;
* a booking imported from a room's calendar (``source: "calendar"``) gets no
  confirmation or invitation;
* a conflict event notify cannot use is logged and skipped, and the next
  one is still handled.
"""

import json
import time
import uuid
from datetime import datetime, timedelta, timezone

import psycopg
import pytest
from booking.calendars import events as calendar_events

from .test_mail import _event, parts, publish

pytestmark = pytest.mark.integration


def conflict(place, person_index=None, language="fr", organiser_email=None):
    """A ``calendar.conflict`` built by the booking service's own event
    module: an Escale booking lost to an earlier meeting of the room's
    calendar."""
    start = (datetime.now(timezone.utc) + timedelta(days=3)).replace(
        hour=9, minute=0, second=0, microsecond=0)
    person = None
    if person_index is not None:
        person = {"id": place.people[person_index], "email": place.emails[person_index],
                  "display_name": "Agent Test", "language": language}
        organiser_email = place.emails[person_index]
    side = {"start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat()}
    return calendar_events.conflict(
        datetime.now(timezone.utc), place.site_id, {"id": place.rooms[0], "name": "Salle 0"},
        kept={"side": "calendar", "booking_id": str(uuid.uuid4()), "remote_id": "r-1",
              "title": "Comité", "organiser_email": "someone@elsewhere.fr", "person": None,
              **side},
        cancelled={"side": "escale", "booking_id": str(uuid.uuid4()), "remote_id": None,
                   "title": "Point équipe", "organiser_email": organiser_email,
                   "person": person, **side},
        site={"name": "Site test", "timezone": "UTC"})


def ledger(notify_db_url, event_id):
    with psycopg.connect(notify_db_url) as conn:
        return conn.execute("SELECT channel, status, kind FROM delivery WHERE event_id = %s "
                            "ORDER BY channel", (event_id,)).fetchall()


def wait_sent(notify_db_url, event_id, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = ledger(notify_db_url, event_id)
        if rows and all(status != "pending" for _, status, _ in rows):
            return rows
        time.sleep(0.05)
    return ledger(notify_db_url, event_id)


def test_a_conflict_tells_the_organiser_once_in_their_language(notify_service, smtp_server,
                                                               amqp_uri, place, notify_db_url):
    event = conflict(place, person_index=0, language="en")
    publish(amqp_uri, event)
    publish(amqp_uri, json.loads(json.dumps(event)))  # delivered twice
    (message,) = smtp_server.wait_for(place.emails[0])
    assert message["Subject"].startswith("Booking cancelled (calendar conflict): Salle 0")
    assert message["Content-Language"] == "en"
    text, html, calendar, _ = parts(message)
    assert "Your booking “Point équipe” has been cancelled: Salle 0 (Site test)" in text
    assert "09:00 to 10:00" in text
    assert "in the room's calendar (Outlook, Thunderbird...), before your booking" in text
    assert "book another slot or another room" in text
    assert '<html lang="en">' in html and calendar is None  # no invitation to cancel
    assert "Comité" not in text  # the other meeting's title is not the loser's business
    time.sleep(1.5)  # several ticks: a second message would have gone by now
    assert len(smtp_server.to(place.emails[0])) == 1
    assert ("email", "sent", "calendar_conflict") in wait_sent(notify_db_url, event["event_id"])


def test_an_organiser_escale_does_not_know_is_told_in_french(notify_service, smtp_server,
                                                             amqp_uri, place):
    address = f"externe-{uuid.uuid4().hex[:8]}@partenaire.fr"
    publish(amqp_uri, conflict(place, organiser_email=address))
    (message,) = smtp_server.wait_for(address)
    assert message["Subject"].startswith("Réservation annulée (conflit d'agenda) : Salle 0")
    assert message["Content-Language"] == "fr"
    text, _, _, _ = parts(message)
    assert text.startswith("Bonjour,")
    assert "Votre réservation « Point équipe » a été annulée : Salle 0 (Site test)" in text
    assert "de 09:00 à 10:00" in text and "la plus ancienne est gardée" in text


def test_a_meeting_imported_from_the_rooms_calendar_sends_nothing(notify_service, smtp_server,
                                                                 amqp_uri, place, notify_db_url):
    imported = _event(place, person_index=1)
    imported["booking"]["source"] = "calendar"
    publish(amqp_uri, imported)
    # The same person's next booking, made in Escale, is confirmed: once it has
    # arrived, the imported one (published first) has been handled too.
    made_here = _event(place, person_index=1)
    made_here["booking"]["source"] = "web"
    publish(amqp_uri, made_here)
    (message,) = smtp_server.wait_for(place.emails[1])
    assert message["Subject"].startswith("Réservation confirmée : Salle 0")
    time.sleep(1.0)
    assert len(smtp_server.to(place.emails[1])) == 1
    assert ledger(notify_db_url, imported["event_id"]) == []
    with psycopg.connect(notify_db_url) as conn:
        scheduled = conn.execute("SELECT kind FROM scheduled WHERE booking_id = %s",
                                 (imported["booking"]["id"],)).fetchall()
    assert scheduled == []  # no reminder, no no-show warning


def test_a_malformed_conflict_is_logged_and_skipped_and_the_next_is_handled(
        notify_service, smtp_server, amqp_uri, place, notify_db_url):
    broken = conflict(place, person_index=2)
    del broken["cancelled"]["start"]
    publish(amqp_uri, broken)
    good = conflict(place, person_index=2)
    publish(amqp_uri, good)
    (message,) = smtp_server.wait_for(place.emails[2])
    assert message["Subject"].startswith("Réservation annulée (conflit d'agenda) : Salle 0")
    assert ledger(notify_db_url, broken["event_id"]) == []
    deadline = time.monotonic() + 5
    logged = []
    while not logged and time.monotonic() < deadline:
        logged = [json.loads(line) for line in
                  notify_service.log_path.read_text(errors="replace").splitlines()
                  if broken["event_id"] in line]
        time.sleep(0.05)
    assert [(r["message"], r["reason"]) for r in logged] == [
        ("ignored malformed calendar.conflict", "cancelled.start is not a date and time")]
