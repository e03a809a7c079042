"""Telling the loser of a calendar conflict, and staying quiet about meetings
imported from a room's calendar: the notify domain without I/O."""

import uuid
from datetime import datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest

from notify.domain import calendar_conflict, planning
from notify.domain.preferences import DEFAULT, Preferences
from notify.settings import Settings, SettingsError

pytestmark = pytest.mark.unit

NOW = datetime(2026, 3, 9, 10, 0, tzinfo=timezone.utc)
SENDER = planning.Sender("escale@mairie.fr")


def conflict_event(person="en", organiser_email="camille@mairie.fr", kept_side="calendar"):
    person_id = str(uuid.uuid4())
    return {
        "v": 1, "event_id": str(uuid.uuid4()), "type": "calendar.conflict",
        "occurred_at": "2026-03-09T11:00:00+01:00", "site_id": "s1",
        "site": {"id": "s1", "name": "Hôtel de ville", "timezone": "Europe/Paris"},
        "resource": {"id": "r1", "name": "Salle Jaurès"},
        "kept": {"side": kept_side, "booking_id": str(uuid.uuid4()), "title": "Secret board meeting",
                 "start": "2026-03-10T09:00:00+01:00", "end": "2026-03-10T10:00:00+01:00"},
        "cancelled": {
            "side": "escale", "booking_id": str(uuid.uuid4()), "remote_id": None,
            "start": "2026-03-10T09:30:00+01:00", "end": "2026-03-10T10:30:00+01:00",
            "title": "Point équipe", "organiser_email": organiser_email,
            "person": None if person is None else {
                "id": person_id, "email": organiser_email, "display_name": "Camille Durand",
                "language": person}},
    }


def test_a_person_is_told_in_their_language_what_why_and_what_to_do():
    ev = conflict_event(person="en")
    email, chat = calendar_conflict.deliveries(calendar_conflict.parse(ev), DEFAULT, NOW, True,
                                               "https://escale.mairie.fr/")
    assert (email.channel, email.status, email.event_id) == ("email", "pending", ev["event_id"])
    assert email.booking_id == ev["cancelled"]["booking_id"]
    message = email.message
    assert message["to"] == "camille@mairie.fr" and message["language"] == "en"
    assert message["subject"] == ("Booking cancelled (calendar conflict): Salle Jaurès, "
                                  "Tuesday 10 March 2026, 09:30 to 10:30")
    assert "Salle Jaurès (Hôtel de ville), Tuesday 10 March 2026, 09:30 to 10:30" in message["text"]
    assert "before your booking" in message["text"] and "room's calendar" in message["text"]
    assert "https://escale.mairie.fr/app" in message["text"]
    assert "https://escale.mairie.fr/app" in message["html"] and message["ics"] is None
    # The winner's title is someone else's: never told.
    assert "Secret" not in message["text"] and "Secret" not in chat.message["text"]
    assert chat.channel == "chat" and chat.person_id == ev["cancelled"]["person"]["id"]
    assert chat.message["text"].endswith("Book another slot: https://escale.mairie.fr/app")


def test_an_organiser_escale_does_not_know_gets_one_email_in_french_without_a_link():
    ev = conflict_event(person=None, organiser_email="externe@partenaire.fr", kept_side="escale")
    (email,) = calendar_conflict.deliveries(calendar_conflict.parse(ev), DEFAULT, NOW, True)
    assert email.message["to"] == "externe@partenaire.fr" and email.person_id is None
    assert email.message["language"] == "fr"
    assert email.message["subject"].startswith("Réservation annulée (conflit d'agenda) : Salle Jaurès")
    text = email.message["text"]
    assert text.startswith("Bonjour,")
    assert "mardi 10 mars 2026, de 09:30 à 10:30" in text and "dans Escale, avant" in text
    assert "réservez un autre créneau ou une autre salle dans Escale." in text


def test_nobody_to_tell_sends_nothing():
    ev = conflict_event(person=None, organiser_email=None)
    conflict = calendar_conflict.parse(ev)
    assert conflict.recipient is None
    assert calendar_conflict.deliveries(conflict, DEFAULT, NOW, True) == []


def test_quiet_hours_hold_the_message_and_no_chat_backend_skips_chat():
    prefs = Preferences(quiet_start=time(8, 0), quiet_end=time(12, 0))
    email, chat = calendar_conflict.deliveries(calendar_conflict.parse(conflict_event()), prefs,
                                               NOW, False)
    assert email.next_attempt_at == datetime(2026, 3, 9, 12, 0, tzinfo=ZoneInfo("Europe/Paris"))
    assert (chat.status, chat.reason) == ("skipped", "no_chat_backend")


@pytest.mark.parametrize("break_it", [
    lambda ev: ev.pop("cancelled"),
    lambda ev: ev.update(event_id="not-an-id"),
    lambda ev: ev["cancelled"].pop("start"),
    lambda ev: ev["cancelled"].update(end="2026-03-10T08:00:00+01:00"),
    lambda ev: ev["cancelled"].update(start="2026-03-10T09:30:00"),
    lambda ev: ev["cancelled"].update(person="Camille"),
    lambda ev: ev.update(type="booking.created"),
])
def test_a_malformed_conflict_is_refused_with_a_reason(break_it):
    ev = conflict_event()
    break_it(ev)
    with pytest.raises(calendar_conflict.Malformed):
        calendar_conflict.parse(ev)


def booking_event(kind, source):
    return {
        "v": 1, "event_id": "e1", "type": kind, "occurred_at": "2026-03-01T10:00:05+01:00",
        "booking": {"id": "b1", "status": "confirmed", "start": "2026-03-10T09:00:00+01:00",
                    "end": "2026-03-10T12:00:00+01:00", "created_at": "2026-03-01T10:00:00+01:00",
                    "source": source},
        "person": {"id": "p1", "email": "camille@mairie.fr", "display_name": "Camille",
                   "language": "fr"},
        "resource": {"id": "r1", "code": "S1", "name": "Seine", "kind": "room"},
        "site": {"id": "s1", "name": "Hôtel de ville", "timezone": "Europe/Paris"},
    }


@pytest.mark.parametrize("kind", ["booking.created", "booking.updated", "booking.cancelled"])
def test_a_meeting_from_the_rooms_calendar_gets_no_invitation_reminder_or_warning(kind):
    plan = planning.on_event(booking_event(kind, "calendar"), DEFAULT, NOW, SENDER, True, 15)
    assert plan.deliveries == [] and plan.schedule == []
    web = planning.on_event(booking_event(kind, "web"), DEFAULT, NOW, SENDER, True, 15)
    assert web.deliveries  # the same booking made in Escale is confirmed or cancelled


def test_the_public_url_is_an_http_address():
    assert Settings.from_env({"ESCALE_PUBLIC_URL": "https://escale.mairie.fr/"}).public_url == \
        "https://escale.mairie.fr"
    assert Settings.from_env({}).public_url == ""
    with pytest.raises(SettingsError):
        Settings.from_env({"ESCALE_PUBLIC_URL": "escale.mairie.fr"})
