"""The notify domain without I/O: preferences, schedule, invitations,
messages, settings and the chat plugins' payloads."""

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import icalendar
import pytest

from notify.adapters import mail
from notify.adapters.chat import load
from notify.adapters.chat.teams import TeamsChat
from notify.adapters.chat.webhook import WebhookChat
from notify.adapters.directory import tchap_emails
from notify.adapters.transport import Skip
from notify.domain import errors, invitation, messages, planning
from notify.domain.preferences import DEFAULT, Preferences
from notify.domain.schedule import backoff, no_show_warning_due, reminder_due
from notify.settings import Chat, Settings, SettingsError

pytestmark = pytest.mark.unit

PARIS = ZoneInfo("Europe/Paris")


def booking_event(kind="booking.created", language="fr"):
    return {
        "v": 1, "event_id": "e1", "type": kind, "occurred_at": "2026-03-01T10:00:05+01:00",
        "booking": {"id": "b1", "status": "confirmed", "start": "2026-03-10T09:00:00+01:00",
                    "end": "2026-03-10T12:00:00+01:00", "created_at": "2026-03-01T10:00:00+01:00"},
        "person": {"id": "p1", "email": "camille@mairie.fr", "display_name": "Camille Durand",
                   "language": language},
        "resource": {"id": "r1", "code": "S1", "name": "Seine", "kind": "room"},
        "site": {"id": "s1", "name": "Hôtel de ville", "timezone": "Europe/Paris"},
    }


def test_preferences_validate_and_round_trip():
    prefs = DEFAULT.updated({"channels": {"reminder": ["chat"], "released": "none"},
                             "reminder": "morning_of",
                             "quiet_hours": {"start": "21:30", "end": "07:00"}})
    wire = prefs.to_wire()
    assert wire["channels"]["reminder"] == ["chat"] and wire["channels"]["released"] == []
    assert wire["channels"]["confirmation"] == ["email"]
    assert wire["quiet_hours"] == {"start": "21:30", "end": "07:00"}
    for bad, field in (({"channels": {"gossip": []}}, "channels.gossip"),
                       ({"channels": {"reminder": ["sms"]}}, "channels.reminder"),
                       ({"reminder": "never"}, "reminder"),
                       ({"timezone": "Mars/Olympus"}, "timezone"),
                       ({"quiet_hours": {"start": "25:00", "end": "07:00"}}, "quiet_hours.start"),
                       ({"colour": "blue"}, "colour")):
        with pytest.raises(errors.Invalid) as caught:
            DEFAULT.updated(bad)
        assert caught.value.details["field"] == field


def test_quiet_hours_wrap_midnight():
    prefs = Preferences(quiet_start=time(22), quiet_end=time(7))
    assert prefs.quiet_until(datetime(2026, 3, 10, 23, 0, tzinfo=PARIS)) == \
        datetime(2026, 3, 11, 7, 0, tzinfo=PARIS)
    assert prefs.quiet_until(datetime(2026, 3, 11, 6, 0, tzinfo=PARIS)) == \
        datetime(2026, 3, 11, 7, 0, tzinfo=PARIS)
    assert prefs.quiet_until(datetime(2026, 3, 11, 7, 0, tzinfo=PARIS)) is None
    lunch = Preferences(quiet_start=time(12), quiet_end=time(14))
    assert lunch.quiet_until(datetime(2026, 3, 11, 13, 0, tzinfo=PARIS)).hour == 14


def test_reminders_and_warnings_times():
    start = datetime(2026, 3, 30, 9, 0, tzinfo=PARIS)  # the day after the change to summer time
    assert reminder_due(start, "Europe/Paris", "day_before") == datetime(2026, 3, 29, 17, 0,
                                                                         tzinfo=PARIS)
    assert reminder_due(start, "Europe/Paris", "morning_of") == datetime(2026, 3, 30, 7, 30,
                                                                         tzinfo=PARIS)
    early = datetime(2026, 3, 30, 8, 0, tzinfo=PARIS)
    assert reminder_due(early, "Europe/Paris", "morning_of") == datetime(2026, 3, 30, 7, 0,
                                                                         tzinfo=PARIS)
    assert reminder_due(start, "Europe/Paris", "none") is None
    assert no_show_warning_due(start, 30, 10) == (start + timedelta(minutes=20),
                                                  start + timedelta(minutes=30))
    assert no_show_warning_due(start, 5, 10) == (start, start + timedelta(minutes=5))
    assert no_show_warning_due(start, 0, 10) is None
    assert [backoff(n, 30, 3600).total_seconds() for n in (1, 2, 3, 9)] == [30, 60, 120, 3600]


def test_invitation_request_and_cancel_share_uid_and_grow_sequence():
    ev = booking_event()
    stamp = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)
    common = dict(booking=ev["booking"], summary="Seine", location="Seine", description="x",
                  organizer="escale@mairie.fr", organizer_name="Escale",
                  attendee="camille@mairie.fr", attendee_name="Camille", stamp=stamp)
    req = icalendar.Calendar.from_ical(invitation.build(
        method="REQUEST", seq=invitation.sequence(ev["booking"], ev["booking"]["created_at"], False),
        **common))
    can = icalendar.Calendar.from_ical(invitation.build(
        method="CANCEL", seq=invitation.sequence(ev["booking"], "2026-03-01T10:00:00+01:00", True),
        **common))
    (r,), (c,) = req.walk("VEVENT"), can.walk("VEVENT")
    assert req["METHOD"] == "REQUEST" and can["METHOD"] == "CANCEL"
    assert r["UID"] == c["UID"] == "booking-b1@escale"
    assert int(r["SEQUENCE"]) == 0 and int(c["SEQUENCE"]) == 1
    assert str(c["STATUS"]) == "CANCELLED" and str(r["STATUS"]) == "CONFIRMED"
    assert r.decoded("DTSTART") == datetime(2026, 3, 10, 8, 0, tzinfo=timezone.utc)
    assert r["ATTENDEE"].params["PARTSTAT"] == "ACCEPTED"
    with pytest.raises(ValueError):
        invitation.build(method="PUBLISH", seq=0, **common)


def test_messages_in_both_languages_with_escaped_html():
    fr = messages.render("confirmation", booking_event())
    assert fr.subject == "Réservation confirmée : Seine (Hôtel de ville), mardi 10 mars 2026, de 09:00 à 12:00"
    assert "la salle Seine" in fr.text and fr.language == "fr"
    en = messages.render("cancellation", booking_event(language="en"))
    assert en.subject == "Booking cancelled: Seine (Hôtel de ville), Tuesday 10 March 2026, 09:00 to 12:00"
    ev = booking_event()
    ev["resource"]["name"] = "<script>alert(1)</script>"
    assert "<script>" not in messages.render("reminder", ev).html
    warning = messages.render("no_show_warning", ev, release=datetime(2026, 3, 10, 8, 30,
                                                                       tzinfo=timezone.utc))
    assert "09:30" in warning.subject


def test_email_carries_the_invitation_twice_with_matching_method():
    ev = booking_event("booking.cancelled")
    rendered = messages.render("cancellation", ev)
    message = planning.email_message("cancellation", ev, rendered,
                                     planning.Sender("escale@mairie.fr"), datetime.now(timezone.utc))
    built = mail.build(message, "Escale <escale@mairie.fr>", "d1")
    types = [p.get_content_type() for p in built.walk()]
    assert types[0] == "multipart/mixed"
    assert {"text/plain", "text/html", "text/calendar", "application/ics"} <= set(types)
    calendar = next(p for p in built.walk() if p.get_content_type() == "text/calendar")
    assert calendar.get_param("method") == "CANCEL"
    assert built["Message-ID"] == "<d1@escale>" and built["Content-Language"] == "fr"


def test_chat_plugins_address_people_their_way():
    recipient = {"person_id": "p1", "email": "camille@mairie.fr",
                 "identity": {"external_id": "U42", "handle": "camille"}}
    mattermost = WebhookChat(Chat(backend="webhook", webhook_url="http://x", webhook_flavour="mattermost"))
    assert mattermost.body(recipient, {"text": "hi"}) == {"text": "hi", "channel": "@camille"}
    slack = WebhookChat(Chat(backend="webhook", webhook_url="http://x", webhook_flavour="slack"))
    assert slack.body(recipient, {"text": "hi"}) == {"text": "<@U42> hi"}
    teams = TeamsChat(Chat(backend="teams", teams_url="http://x"))
    body = teams.body(recipient, {"text": "hi", "language": "fr"})
    assert body["recipient"] == "camille@mairie.fr"
    assert body["attachments"][0]["content"]["body"][0]["text"] == "hi"
    with pytest.raises(Skip):
        mattermost.address({"person_id": "p1", "identity": None})
    none = load(Chat())
    with pytest.raises(Skip):
        none.send(recipient, {"text": "hi"}, "d1")


def test_settings_fail_fast_on_missing_secrets():
    assert Settings.from_env({}).smtp.port == 1025
    with pytest.raises(SettingsError):
        Settings.from_env({"ESCALE_ENV": "production"})
    with pytest.raises(SettingsError):
        Settings.from_env({"ESCALE_CHAT_BACKEND": "matrix"})
    assert Settings.from_env({"ESCALE_CHAT_BACKEND": "matrix", "ESCALE_CHAT_DRY_RUN": "1"}).chat.dry_run
    with pytest.raises(SettingsError):
        Settings.from_env({"ESCALE_SMTP_SECURITY": "ssl3"})
    with pytest.raises(SettingsError):
        Settings.from_env({"ESCALE_SMTP_USERNAME": "u"})


def test_tchap_ids_map_to_emails():
    assert tchap_emails("@jean.dupont-mairie-exemple.fr:agent.tchap.gouv.fr") == [
        "jean.dupont@mairie-exemple.fr", "jean.dupont-mairie@exemple.fr"]
